import type { KeyObject } from 'node:crypto';
import type { z } from 'zod';
import { expandEnv } from '../../config/env-refs.js';
import { FleetDocument, FleetEnvelope, targetMatches, type BoxIdentity } from './fleet-document.js';
import { documentDigest, verifySignature } from './fleet-signature.js';

export const refusalCodes = [
  'oversized',
  'not-json',
  'schema',
  'unknown-key',
  'bad-signature',
  'wrong-target',
  'stale',
  'duplicate',
] as const;
export type RefusalCode = (typeof refusalCodes)[number];

export type Verdict =
  | { ok: true; doc: FleetDocument; digest: string }
  | { ok: false; code: RefusalCode; reason: string; revision?: number; digest?: string };

export interface VerifyContext {
  /** Trusted keys by id (keyRing()). */
  keys: ReadonlyMap<string, KeyObject>;
  maxBytes: number;
  box: BoxIdentity;
  /** The highest revision this box has run or tried, and the digest of that document. */
  revision: number;
  digest?: string;
  /** The revision it runs, when lower than `revision` (a newer one was tried and rolled back). */
  running?: number;
  /** Where `${VAR}` references in the body are expanded from (default: the process environment). */
  env?: NodeJS.ProcessEnv;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

function issuesText(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 5).map((i) => {
    const where = i.path.map(String).join('.') || '(root)';
    return i.code === 'unrecognized_keys'
      ? `${where}: unknown field(s) ${i.keys.join(', ')}`
      : `${where}: ${i.message}`;
  });
  return shown.join('; ') + (issues.length > 5 ? `; and ${issues.length - 5} more` : '');
}

/**
 * Decides whether a received document may be applied. Checks run cheapest-first and each refusal says
 * why: size, JSON, envelope schema, key, signature (over the bytes as received), target, revision, then
 * the body with its `${VAR}` references expanded (the document returned holds the expanded body). Never throws: anything unexpected is a refusal too.
 */
export function verifyDocument(payload: Uint8Array, ctx: VerifyContext): Verdict {
  try {
    return check(payload, ctx);
  } catch (err) {
    return {
      ok: false,
      code: 'schema',
      reason: `unreadable document: ${(err as Error)?.message ?? String(err)}`,
    };
  }
}

function check(payload: Uint8Array, ctx: VerifyContext): Verdict {
  if (payload.length > ctx.maxBytes) {
    return {
      ok: false,
      code: 'oversized',
      reason: `document of ${payload.length} bytes exceeds ${ctx.maxBytes}`,
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(fatalUtf8.decode(payload));
  } catch (err) {
    return { ok: false, code: 'not-json', reason: `not UTF-8 JSON: ${(err as Error).message}` };
  }
  const envelope = FleetEnvelope.safeParse(raw);
  if (!envelope.success) return { ok: false, code: 'schema', reason: issuesText(envelope.error.issues) };
  const doc = raw as Record<string, unknown>;
  const { keyId, signature, revision } = envelope.data;
  // Names the document in the refusal too (the pusher matches answers to its document by it).
  const digest = documentDigest(doc);
  const key = ctx.keys.get(keyId);
  if (!key)
    return {
      ok: false,
      code: 'unknown-key',
      reason: `signed by key ${keyId}, which this box does not trust`,
      revision,
      digest,
    };
  if (!verifySignature(doc, key, signature)) {
    return {
      ok: false,
      code: 'bad-signature',
      reason: `signature does not verify with key ${keyId}`,
      revision,
      digest,
    };
  }
  // Signed by the fleet from here on. Whether it is for this box and new comes first: a retained document
  // already handled, or older, is not news, whatever its body.
  if (!targetMatches(envelope.data.target, ctx.box)) {
    return {
      ok: false,
      code: 'wrong-target',
      reason: `target ${envelope.data.target} is not this box`,
      revision,
      digest,
    };
  }
  if (revision === ctx.revision && digest === ctx.digest) {
    return { ok: false, code: 'duplicate', reason: `revision ${revision} already handled`, revision, digest };
  }
  if (revision <= ctx.revision) {
    return {
      ok: false,
      code: 'stale',
      reason: staleReason(revision, ctx),
      revision,
      digest,
    };
  }
  // A bad body is an operator mistake, still refused. `${VAR}` in it is this box's to fill in from its own
  // environment (docs/fleet.md): one it lacks is named (set it, restart, the retained document applies).
  const unset: string[] = [];
  const config = expandEnv(envelope.data.config, 'config', unset, ctx.env);
  if (unset.length)
    return {
      ok: false,
      code: 'schema',
      reason: `this box's environment: ${unset.join('; ')}`,
      revision,
      digest,
    };
  const full = FleetDocument.safeParse({ ...doc, config });
  if (!full.success)
    return { ok: false, code: 'schema', reason: issuesText(full.error.issues), revision, digest };
  return { ok: true, doc: full.data, digest };
}

/** Names the running revision too when a tried one is higher, so a refusal is not read as "the box runs N". */
function staleReason(revision: number, ctx: VerifyContext): string {
  if (ctx.running === undefined || ctx.running === ctx.revision)
    return `revision ${revision} is not above this box's revision ${ctx.revision}`;
  return `revision ${revision} is not above ${ctx.revision}, the highest revision this box has tried (it runs ${ctx.running})`;
}
