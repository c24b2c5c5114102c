export {};

/** Values the global setup provides to every test file. */
declare module 'vitest' {
  export interface ProvidedContext {
    /** Server URL (database `postgres` or DATABASE_URL's). */
    databaseUrl: string;
    /** A database with the queue schema migrated, cloned by each test file. */
    templateDatabase: string;
    embedded: boolean;
    /** Where fault scenarios record their figures for the end-of-run table. */
    faultFiguresFile: string;
  }
}
