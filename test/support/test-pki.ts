import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Certificates for TLS tests, made by the real openssl in `dir`: a CA is `<name>.crt` + `<name>.key`, a
 * certificate signed by one is `<name>.crt` + `<name>.key` for 127.0.0.1. EC keys: fast to make.
 */
export class TestPki {
  constructor(readonly dir: string) {}

  file(name: string): string {
    return path.join(this.dir, name);
  }

  ca(name: string): this {
    this.openssl(
      'req',
      '-x509',
      ...this.newKey(name),
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    );
    return this;
  }

  cert(name: string, ca: string, cn: string): this {
    this.openssl('req', ...this.newKey(name), '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    writeFileSync(this.file(`${name}.ext`), 'subjectAltName=IP:127.0.0.1\n');
    this.openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
    return this;
  }

  /** mosquitto.conf lines for a TLS listener with the `server` certificate, trusting the CA `ca`. */
  listener(ca: string, server: string, requireCertificate: boolean): string[] {
    return [
      `cafile ${this.file(`${ca}.crt`)}`,
      `certfile ${this.file(`${server}.crt`)}`,
      `keyfile ${this.file(`${server}.key`)}`,
      ...(requireCertificate ? ['require_certificate true'] : []),
    ];
  }

  private newKey(name: string): string[] {
    return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`];
  }

  private openssl(...args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'ignore' });
  }
}
