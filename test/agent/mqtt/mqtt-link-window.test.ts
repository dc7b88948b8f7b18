import { describe, expect, it } from 'vitest';
import { logLines } from '../../support/log-lines.js';
import { useLinkFixture } from '../../support/link-fixture.js';

const fx = useLinkFixture('link-window');

// docs/config.md (mqtt.inflightWindow) and mqtt.md: the window is the config's, but never more than the MQTT 5
// broker's Receive Maximum allows (one slot kept for the status message). mosquitto announces 20 by default.
describe('the in-flight window against the broker’s Receive Maximum', () => {
  const windowOf = async (brokerConfig: string[], inflightWindow?: number) => {
    const broker = await fx.broker({ config: brokerConfig });
    const { log, lines } = logLines();
    const link = fx.link(broker.url, inflightWindow ? { inflightWindow } : {}, { log });
    await fx.until(link, (s) => s.state === 'connected');
    return lines.find((l) => l.msg === 'connected')?.window;
  };

  it('is mqtt.inflightWindow when the broker allows more', async () => {
    expect(await windowOf(['max_inflight_messages 100'])).toBe(32);
  });

  it('is the broker’s Receive Maximum less one when that is smaller (mosquitto’s default 20: 19)', async () => {
    expect(await windowOf([])).toBe(19);
    expect(await windowOf(['max_inflight_messages 5'], 64)).toBe(4);
  });
});
