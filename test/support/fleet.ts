import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ConfigResultPayload } from '../../agent/fleet/fleet-payloads.js';
import type { Received } from './mosquitto.js';
import { runCli } from './agent-process.js';

/** A fleet signing key on disk, made by the real CLI (`vigil fleet keygen`). */
export async function fleetKey(dir: string): Promise<{ file: string; publicBase64: string }> {
  const file = path.join(dir, 'fleet-key.pem');
  const { code, output } = await runCli(['fleet', 'keygen', '--out', file]);
  if (code !== 0) throw new Error(`keygen failed: ${output}`);
  const publicBase64 = /^ {4}- (\S+)$/m.exec(output)?.[1];
  if (!publicBase64) throw new Error(`no public key in: ${output}`);
  return { file, publicBase64 };
}

/** `vigil fleet sign`: writes the body as YAML, signs it, returns the document file. */
export async function signBody(
  dir: string,
  key: string,
  target: string,
  revision: number,
  body: object,
): Promise<string> {
  const yamlFile = path.join(dir, `body-${revision}.yaml`);
  writeFileSync(yamlFile, stringify(body));
  const { code, output } = await runCli([
    'fleet',
    'sign',
    '--key',
    key,
    '--target',
    target,
    '-r',
    String(revision),
    yamlFile,
  ]);
  if (code !== 0) throw new Error(`sign failed: ${output}`);
  const docFile = path.join(dir, `doc-${revision}.json`);
  writeFileSync(docFile, output.slice(output.indexOf('{')));
  return docFile;
}

/** A box's own config file (identity, broker, fleet keys) and its data dir. */
export function writeBoxConfig(cfg: Record<string, unknown>): { file: string; dataDir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-fleet-e2e-'));
  const dataDir = path.join(dir, 'data');
  const file = path.join(dir, 'vigil.yaml');
  writeFileSync(file, stringify({ dataDir, http: { enabled: false }, ...cfg }));
  return { file, dataDir };
}

export function configResults(all: Received[], site: string, device: string): ConfigResultPayload[] {
  return all
    .filter((m) => m.topic === `vigil/${site}/${device}/config/result` && m.payload.length)
    .map((m) => ConfigResultPayload.parse(JSON.parse(m.payload.toString())));
}

/** A local HTTP server for model downloads: serves files by name from a map. */
export async function modelServer(
  files: Record<string, string>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const file = files[(req.url ?? '').slice(1)];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
