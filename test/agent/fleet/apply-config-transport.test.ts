import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { applyConfig } from '../../../agent/fleet/apply-config.js';
import { freePort } from '../../support/free-port.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { applied, applyFixture, notApplied, steps } from './apply-fixture.js';

// New mqtt and http settings are proven (a real mosquitto, real sockets) before an apply counts
// (docs/fleet.md "Applying"), on the light host of apply-fixture.ts.
const { cfg, started } = applyFixture();

describe('applyConfig', () => {
  it('new mqtt settings are proven by a connection before the apply counts', async () => {
    const broker = await startMosquitto();
    try {
      const h = await started(cfg((c) => (c.mqtt = { url: 'mqtt://127.0.0.1:1' })));
      const next = cfg((c) => (c.mqtt = { url: broker.url }));
      const s = steps();
      const r = applied(
        await applyConfig(
          h,
          { config: h.config },
          { config: next },
          { healthDeadlineMs: 3000, onStep: s.onStep },
        ),
      );
      expect(r.plan.restartRequired).toEqual(['mqtt']);
      expect(r.plan.changed).toEqual(['mqtt: at next restart']);
      expect(s.seen).toEqual(['load', 'switch', 'health', 'transport']);
      await new Promise((res) => setTimeout(res, 100));
      expect(broker.log()).toMatch(/New client connected .* as vigil-probe-/);
    } finally {
      await broker.stop();
    }
  });

  it('mqtt settings the box could not connect with are rolled back', async () => {
    const h = await started(cfg((c) => (c.mqtt = { url: 'mqtt://127.0.0.1:1' })));
    const prevConfig = h.config;
    const dead = `mqtt://127.0.0.1:${await freePort()}`;
    const next = cfg((c) => (c.mqtt = { url: dead }));
    const r = notApplied(
      await applyConfig(h, { config: prevConfig }, { config: next }, { healthDeadlineMs: 1500 }),
    );
    expect(r.errors[0]).toMatch(new RegExp(`^new mqtt settings: cannot connect to ${dead}: `));
    expect(h.config).toBe(prevConfig);
  });

  it('the rollback error, published in config/result, shows no credential from the new URL', async () => {
    // A broker that lets no one in: the new settings are refused.
    const broker = await startMosquitto({ allowAnonymous: false });
    try {
      const h = await started(cfg((c) => (c.mqtt = { url: 'mqtt://127.0.0.1:1' })));
      const next = cfg((c) => (c.mqtt = { url: `mqtt://box:Pa55-w0rd@127.0.0.1:${broker.port}` }));
      const r = notApplied(
        await applyConfig(h, { config: h.config }, { config: next }, { healthDeadlineMs: 1500 }),
      );
      expect(r.errors).toEqual([
        `new mqtt settings: cannot connect to mqtt://***@127.0.0.1:${broker.port}: Connection refused: Not authorized`,
      ]);
      // A TLS file that cannot be read is a rollback naming the field, not an exception.
      const noCa = cfg((c) => (c.mqtt = { url: 'mqtts://127.0.0.1:1', tls: { ca: '/nonexistent/ca.pem' } }));
      expect(
        notApplied(await applyConfig(h, { config: h.config }, { config: noCa }, { healthDeadlineMs: 1500 }))
          .errors,
      ).toEqual([
        'new mqtt settings: cannot connect to mqtts://127.0.0.1:1: mqtt.tls.ca: cannot read /nonexistent/ca.pem: no such file',
      ]);
    } finally {
      await broker.stop();
    }
  });

  it('a new http address that cannot be bound is rolled back; a free one is fine', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const h = await started();
      const prevConfig = h.config;
      const next = cfg((c) => (c.http = { enabled: true, host: '127.0.0.1', port }));
      const r = notApplied(
        await applyConfig(h, { config: prevConfig }, { config: next }, { healthDeadlineMs: 3000 }),
      );
      expect(r.errors[0]).toMatch(`new http settings: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE`);
      expect(h.config).toBe(prevConfig);
      const free = await freePort();
      const ok = cfg((c) => (c.http = { enabled: true, host: '127.0.0.1', port: free }));
      expect(
        applied(await applyConfig(h, { config: prevConfig }, { config: ok }, { healthDeadlineMs: 3000 })).plan
          .restartRequired,
      ).toEqual(['http']);
    } finally {
      busy.close();
    }
  });
});
