import { request } from 'node:http';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Raw node:http (fetch would normalise `..` in paths, which is exactly what must be tried as sent). */
export function call(
  base: URL,
  pathname: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | Buffer[] } = {},
): Promise<Answer> {
  const parts = opts.body === undefined ? [] : Array.isArray(opts.body) ? opts.body : [opts.body];
  const headers = { ...opts.headers };
  // Node frames a DELETE body only with an explicit length (it would otherwise read as the next request).
  if (opts.body !== undefined && !headers['Transfer-Encoding'])
    headers['Content-Length'] = String(parts.reduce((n, p) => n + p.length, 0));
  return new Promise((resolve, reject) => {
    const req = request(
      { host: base.hostname, port: base.port, path: pathname, method: opts.method ?? 'GET', headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    // The server may answer early and close (oversize): that is an answer, not a failure.
    req.on('error', (err) => reject(err));
    for (const p of parts) req.write(p);
    req.end();
  });
}
