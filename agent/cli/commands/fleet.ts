import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { FleetTarget, type FleetBodyInput } from '../../fleet/fleet-document.js';
import { fleetPrivateKey, generateFleetKey, signDocument } from '../../fleet/fleet-signature.js';
import { insecureMqttSettings } from '../../../config/insecure-settings.js';
import { literalSecrets } from '../../fleet/literal-secrets.js';
import { readPemFile } from '../../mqtt/tls-errors.js';
import type { CliResult } from '../main.js';

const fail = (result: CliResult, code: number, text: string) => {
  console.error(`vigil fleet: ${text}`);
  result.code = code;
};

interface SignOptions {
  key: string;
  target: string;
  revision?: string;
  allowLiteralSecrets?: boolean;
}

/** `vigil fleet keygen | sign | push` (docs/fleet.md). */
export function registerFleet(program: Command, result: CliResult): void {
  const fleet = program.command('fleet').description('sign and push configs to a fleet of boxes');

  fleet
    .command('keygen')
    .description('make an Ed25519 fleet signing key: the private key to a file, the public key to stdout')
    .option('-o, --out <file>', 'private key file (PKCS#8 PEM, mode 0600)', 'fleet-key.pem')
    .action((opts: { out: string }) => {
      if (existsSync(opts.out)) return fail(result, 2, `${opts.out} exists; not overwriting a key`);
      const key = generateFleetKey();
      writeFileSync(opts.out, key.privatePem, { mode: 0o600, flag: 'wx' });
      console.error(`private key written to ${opts.out} (keep it off the boxes); key id ${key.keyId}`);
      console.log(`# add to each box's config:\nfleet:\n  keys:\n    - ${key.publicBase64}`);
    });

  fleet
    .command('sign')
    .description('sign a fleet config (YAML: models, cameras, …) and print the document (JSON)')
    .argument('<config>', 'the config body: models, cameras and optionally mqtt, http, outbox, logLevel')
    .requiredOption('-k, --key <file>', 'private key from `vigil fleet keygen`')
    .requiredOption('-t, --target <target>', 'group:<name>, site:<site> or device:<site>/<device>')
    .option('-r, --revision <n>', 'document revision; must rise with every push (default: Unix time in s)')
    .option(
      '--allow-literal-secrets',
      'sign a body with passwords or tokens written in it (readable by every subscriber of the fleet topic)',
    )
    .action((file: string, opts: SignOptions) => {
      try {
        const target = FleetTarget.safeParse(opts.target);
        if (!target.success) return fail(result, 2, `--target: ${target.error.issues[0]?.message}`);
        const revision = opts.revision === undefined ? Math.floor(Date.now() / 1000) : Number(opts.revision);
        if (!Number.isSafeInteger(revision) || revision < 1)
          return fail(result, 2, `--revision: expected a positive integer, got ${opts.revision}`);
        const body = parseYaml(readFileSync(file, 'utf8')) as FleetBodyInput;
        // The document is retained on the broker in clear: a secret in it is every subscriber's.
        const secrets = literalSecrets(body);
        if (secrets.length && !opts.allowLiteralSecrets)
          return fail(
            result,
            2,
            `${file}: secrets written in the body would be readable by every subscriber of the fleet topic ` +
              `(every box): ${secrets.join('; ')}. Write them as \${VAR} references, which each box expands ` +
              `from its own environment, or pass --allow-literal-secrets`,
          );
        if (secrets.length)
          console.error(
            `warning: secrets written in the body, readable by every subscriber of the fleet topic: ${secrets.join('; ')}`,
          );
        const doc = signDocument(
          { revision, target: target.data, config: body },
          fleetPrivateKey(readFileSync(opts.key)),
        );
        process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
      } catch (err) {
        fail(result, 2, err instanceof Error ? err.message : String(err));
      }
    });

  fleet
    .command('push')
    .description('publish a signed document and wait for every targeted box to report')
    .argument('<document>', 'a document from `vigil fleet sign`')
    .requiredOption('--mqtt <url>', 'broker URL')
    .option('-t, --target <target>', "check that the document's target is this one")
    .option('--base-topic <topic>', 'topic root', 'vigil')
    .option('--username <name>', 'broker user')
    .option('--tls-ca <file>', "CA that signed the broker's certificate (mqtts://), as mqtt.tls.ca")
    .option('--tls-cert <file>', 'client certificate, if the broker asks for one (as mqtt.tls.cert)')
    .option('--tls-key <file>', "the client certificate's key (as mqtt.tls.key)")
    .option('--timeout <s>', 'stop waiting after this many seconds', '120')
    .option('--expect <n>', 'wait until at least this many boxes are known')
    .action(async (file: string, opts: Record<string, string | undefined>) => {
      const { pushDocument } = await import('../../fleet/push.js');
      const { renderPushTable } = await import('../../fleet/push-tracker.js');
      const { fitToScreen } = await import('../../fleet/push-screen.js');
      // A wrong option or document is refused before connecting (exit 2, nothing published).
      const timeoutS = Number(opts.timeout);
      if (!(Number.isFinite(timeoutS) && timeoutS > 0))
        return fail(result, 2, `--timeout: expected seconds above 0, got ${opts.timeout}`);
      const expect = opts.expect === undefined ? undefined : Number(opts.expect);
      if (expect !== undefined && !(Number.isSafeInteger(expect) && expect >= 1))
        return fail(result, 2, `--expect: expected a positive integer, got ${opts.expect}`);
      let document: Buffer;
      let target: unknown;
      try {
        document = readFileSync(file);
        const parsed = JSON.parse(document.toString('utf8')) as { target?: unknown; config?: unknown };
        target = parsed.target;
        if (opts.target && target !== opts.target)
          return fail(result, 2, `the document targets ${String(target)}, not ${opts.target}`);
        // Signed before sign refused them, or with --allow-literal-secrets: still pushed, not silently.
        const secrets = literalSecrets(parsed.config);
        if (secrets.length)
          console.error(
            `warning: secrets written in the document, readable by every subscriber of the fleet topic: ${secrets.join('; ')}`,
          );
      } catch (err) {
        return fail(result, 2, `${file}: ${(err as Error).message}`);
      }
      const tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
      for (const [field, flag] of [
        ['ca', 'tlsCa'],
        ['cert', 'tlsCert'],
        ['key', 'tlsKey'],
      ] as const) {
        const tlsFile = opts[flag];
        if (tlsFile === undefined) continue;
        try {
          // As the agent reads mqtt.tls: a file without PEM content is named, not skipped (a CA) or left to OpenSSL.
          tls[field] = readPemFile(tlsFile, field, `--tls-${field}`);
        } catch (err) {
          return fail(result, 2, (err as Error).message);
        }
      }
      // mqtt.js ignores TLS options on a plain URL: the operator would believe in a TLS link that is not there.
      const tlsFlag = Object.keys(tls)[0];
      if (tlsFlag && !/^(mqtts|wss|ssl):\/\//.test(opts.mqtt!))
        return fail(
          result,
          2,
          `--tls-${tlsFlag}: set, but --mqtt is ${opts.mqtt!.split(':')[0]}:// (no TLS): use mqtts://`,
        );
      const password = process.env.VIGIL_MQTT_PASSWORD;
      for (const s of insecureMqttSettings({ url: opts.mqtt!, ...(password && { password }) }))
        console.error(`vigil fleet: warning: ${s.why}`);
      const live = process.stdout.isTTY;
      let shown = 0;
      let lastLine = '';
      const outcome = await pushDocument({
        url: opts.mqtt!,
        document,
        baseTopic: opts.baseTopic!,
        timeoutMs: timeoutS * 1000,
        ...(expect !== undefined && { expect }),
        ...(opts.username && { username: opts.username }),
        ...(password && { password }),
        tls,
        onUpdate: (tracker, ms) => {
          if (live) {
            // Redraw the table in place, moving up the rows the last frame took on this terminal.
            const { stdout } = process;
            const frame = fitToScreen(
              renderPushTable(tracker, tracker.revision, ms),
              stdout.columns || 80,
              stdout.rows || 24,
            );
            stdout.write(`${shown ? `\x1b[${shown}A\x1b[J` : ''}${frame.text}\n`);
            shown = frame.rows;
            return;
          }
          // A log (CI, a pipe): one line per box whose status changed.
          for (const r of tracker.rows.values()) {
            const line = `${r.site}/${r.device} ${r.status}${r.errors.length ? `: ${r.errors.join('; ')}` : ''}`;
            if (r.status !== 'waiting' && !lastLine.includes(`\n${line}\n`)) {
              console.log(line);
              lastLine += `\n${line}\n`;
            }
          }
        },
      }).catch((err: unknown) => {
        fail(result, 1, err instanceof Error ? err.message : String(err));
        return undefined;
      });
      if (!outcome) return;
      const { tracker } = outcome;
      if (live) process.stdout.write(shown ? `\x1b[${shown}A\x1b[J` : '');
      console.log(renderPushTable(tracker, outcome.revision, outcome.elapsedMs));
      const n = tracker.counts();
      if (outcome.timedOut) console.log(`timed out: the document stays retained on ${outcome.topic}`);
      // Not one box follows that target: most often a misspelt site, group or device.
      if (outcome.timedOut && tracker.rows.size === 0)
        console.log(
          `no box follows ${String(target)} on this broker (none announced itself on config/state): ` +
            'check the spelling of the target, and that the boxes are connected',
        );
      // --expect not met: the summary alone (every known box answered) would not say why it failed.
      const expected = expect ?? 0;
      if (outcome.timedOut && tracker.rows.size > 0 && tracker.rows.size < expected)
        console.log(
          `only ${tracker.rows.size} of the ${expected} expected boxes (--expect) announced themselves on ` +
            `config/state: the others never connected to this broker, or do not follow ${String(target)}`,
        );
      result.code = n.rejected || n.rolled_back || outcome.timedOut ? 1 : 0;
    });
}
