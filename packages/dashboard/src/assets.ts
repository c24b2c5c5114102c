import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DashboardConfigError } from './errors.js';

/** The page's stylesheets, in cascade order: base, pages, then narrow and touch screens. */
export const STYLESHEETS = ['app.css', 'pages.css', 'phone.css'] as const;

/** The only files served: a fixed list, so no request path ever reaches the file system. */
const TYPES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  ...Object.fromEntries(STYLESHEETS.map((name) => [name, 'text/css; charset=utf-8'])),
  'favicon.svg': 'image/svg+xml',
};

export interface Asset {
  type: string;
  body: Uint8Array;
  etag: string;
}

/**
 * Finds the built browser files: beside the bundle (dist/assets, the published layout) or,
 * when running from the sources (tests), in the package's dist/assets.
 */
function assetDir(): string {
  const candidates = [new URL('./assets/', import.meta.url), new URL('../dist/assets/', import.meta.url)];
  for (const url of candidates) {
    const dir = fileURLToPath(url);
    if (existsSync(`${dir}app.js`)) return dir;
  }
  throw new DashboardConfigError(
    "the dashboard's browser files are missing (dist/assets/app.js): build @queue/dashboard first",
  );
}

export class Assets {
  private readonly cache = new Map<string, Asset>();
  private readonly dir = assetDir();

  get(name: string): Asset | undefined {
    const type = TYPES[name];
    if (!type) return undefined;
    let asset = this.cache.get(name);
    if (!asset) {
      const body = readFileSync(`${this.dir}${name}`);
      asset = { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
      this.cache.set(name, asset);
    }
    return asset;
  }

  /** A short content hash of app.js and the stylesheets, appended to their URLs so a new version is never served stale. */
  version(): string {
    const hash = createHash('sha256').update(this.get('app.js')!.etag);
    for (const name of STYLESHEETS) hash.update(this.get(name)!.etag);
    return hash.digest('base64url').slice(0, 10);
  }
}
