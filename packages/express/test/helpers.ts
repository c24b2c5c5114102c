import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express5 from 'express';
import express4 from 'express-4';

/** Both majors the peer range accepts; every suite that touches Express runs on each. */
export const expressVersions: [string, typeof express5][] = [
  ['express 5', express5],
  ['express 4', express4 as unknown as typeof express5],
];

/** Listens on a free loopback port and resolves once it is listening. */
export async function listen(app: express5.Express): Promise<{ server: Server; baseUrl: string }> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, baseUrl: `http://127.0.0.1:${port}` };
}

/** Express 4 does not catch a rejected promise from a handler; this passes it to next() on both. */
export const route =
  (handler: (req: express5.Request, res: express5.Response) => Promise<unknown>): express5.RequestHandler =>
  (req, res, next) => {
    handler(req, res).catch(next);
  };

export async function postJson(baseUrl: string, path: string, body: unknown) {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, body: json, text };
}
