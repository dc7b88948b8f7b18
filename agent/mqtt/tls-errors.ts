import { readFileSync } from 'node:fs';
import type { MqttConfig } from '../../config/schema.js';

/** Node's codes for a broker certificate that no CA we trust signed. */
const untrusted = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** OpenSSL's own text ("…:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:file:line…") without its noise. */
function opensslReason(message: string): string {
  const m = /:[A-Za-z0-9 ]+ routines:[^:]*:([^:]+):/.exec(message);
  return (m?.[1] ?? message).trim();
}

/**
 * A TLS failure of the broker link in the words of the config an installer wrote: what was refused, by whom,
 * and which `mqtt.tls` field (and file) to look at. OpenSSL's and Node's own texts name neither (a missing
 * client certificate reads as "…:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:…"). Any
 * other error comes back as it was.
 */
export function describeTlsError(err: Error, cfg: MqttConfig): Error {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return err;
  const tls = cfg.tls;
  const file = (field: 'ca' | 'cert' | 'key') =>
    tls?.[field] ? `mqtt.tls.${field} (${tls[field]})` : `mqtt.tls.${field}`;
  let text: string | undefined;
  if (untrusted.has(code))
    text = `the broker's certificate is not trusted (${err.message}): ${
      tls?.ca ? `no CA in ${file('ca')} signed it` : 'set mqtt.tls.ca to the CA that signed it'
    }`;
  else if (code === 'CERT_HAS_EXPIRED')
    text = "the broker's certificate has expired (renew it on the broker, or check this box's clock)";
  else if (code === 'CERT_NOT_YET_VALID')
    text = "the broker's certificate is not valid yet (check this box's clock)";
  else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    text = `the broker's certificate is not for the host in mqtt.url: ${err.message}`;
  else if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')
    text = 'the broker requires a client certificate: set mqtt.tls.cert and mqtt.tls.key';
  else if (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH')
    text = `the key in ${file('key')} does not belong to the certificate in ${file('cert')}`;
  else if (code === 'ERR_SSL_WRONG_VERSION_NUMBER')
    text = 'the broker does not speak TLS on this port (mqtts:// to a plain mqtt:// listener?)';
  else if (/^ERR_SSL_.*_ALERT_/.test(code))
    // The broker's own alert (unknown ca, bad certificate, certificate expired…): it refused our certificate.
    text = `the broker refused the TLS handshake (${opensslReason(err.message)})${
      tls?.cert ? `: check the client certificate in ${file('cert')}` : ''
    }`;
  else if (/^ERR_(SSL|OSSL)_/.test(code)) text = opensslReason(err.message);
  if (text === undefined) return err;
  return Object.assign(new Error(`TLS: ${text}`), { code });
}

const unreadable: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'a directory, not a file',
};

/** Why a file could not be read, in words ("no such file"), not as "ENOENT: …, open '…'". */
export const unreadableReason = (err: unknown) =>
  unreadable[(err as NodeJS.ErrnoException).code ?? ''] ?? (err as Error).message;

/** What each `mqtt.tls` file must hold: Node takes PEM only, and skips a CA file without a certificate silently. */
const pemOf = {
  ca: { marker: /-----BEGIN CERTIFICATE-----/, what: 'PEM certificate' },
  cert: { marker: /-----BEGIN CERTIFICATE-----/, what: 'PEM certificate' },
  key: { marker: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, what: 'PEM private key' },
};

/**
 * A PEM file for a TLS `field`, or an error naming the setting (`name`: `mqtt.tls.ca`, `--tls-ca`) and the
 * path: not a bare ENOENT, nor OpenSSL's "no start line", nor a CA file Node would skip without a word.
 */
export function readPemFile(file: string, field: 'ca' | 'cert' | 'key', name: string): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (err) {
    throw Object.assign(new Error(`${name}: cannot read ${file}: ${unreadableReason(err)}`), {
      code: (err as NodeJS.ErrnoException).code,
    });
  }
  const { marker, what } = pemOf[field];
  if (!marker.test(content.toString('latin1')))
    throw new Error(`${name}: ${file} holds no ${what} (${marker.source.replace('[A-Z ]*', '')})`);
  return content;
}

/** One `mqtt.tls` file (readPemFile), or undefined when the config names none. */
export function readTlsFile(cfg: MqttConfig, field: 'ca' | 'cert' | 'key'): Buffer | undefined {
  const file = cfg.tls?.[field];
  return file ? readPemFile(file, field, `mqtt.tls.${field}`) : undefined;
}
