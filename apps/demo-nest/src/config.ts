import { type DynamicModule, Module } from '@nestjs/common';

export const DEMO_CONFIG = 'DEMO_CONFIG';

export interface DemoConfig {
  databaseUrl: string;
  /** Chance that a CRM sync attempt fails (demo-kit's; tests set 1). */
  crmFailureRate?: number;
  /**
   * HTTP Basic credentials for the queue dashboard at /admin/queue. Without them the dashboard
   * is still mounted, closed: it answers 401 to every request.
   */
  dashboard?: { username: string; password: string };
}

/** The app's settings as a global provider, so QueueModule.forRootAsync() can inject them. */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest dynamic module is a class with a static factory
export class DemoConfigModule {
  static forRoot(config: DemoConfig): DynamicModule {
    return {
      module: DemoConfigModule,
      global: true,
      providers: [{ provide: DEMO_CONFIG, useValue: config }],
      exports: [DEMO_CONFIG],
    };
  }
}
