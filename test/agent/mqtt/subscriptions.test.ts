import type { IPublishPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import {
  inboundMessage,
  Subscriptions,
  topicMatches,
  validFilter,
  validTopicName,
  type InboundMessage,
  type MessageHandler,
} from '../../../agent/mqtt/subscriptions.js';

const packet = (extra: Partial<IPublishPacket> = {}): IPublishPacket => ({
  cmd: 'publish',
  topic: 'vigil/s/d/request/ping',
  payload: Buffer.from('{}'),
  qos: 1,
  dup: false,
  retain: false,
  ...extra,
});

const message = (topic: string, payload = 'p'): InboundMessage => ({
  topic,
  payload: Buffer.from(payload),
  retain: false,
});

/** A handler that records the topics it was called with. */
function recorder(): MessageHandler & { topics: string[] } {
  const topics: string[] = [];
  return Object.assign((_payload: Buffer, msg: InboundMessage) => void topics.push(msg.topic), { topics });
}

describe('inboundMessage', () => {
  it('keeps a Buffer payload as is and turns a string one into bytes', () => {
    const payload = Buffer.from([0xff, 0x00, 0x7b]);
    expect(inboundMessage(packet({ payload })).payload).toBe(payload);
    const fromString = inboundMessage(packet({ payload: '{"a":"é"}', retain: true }));
    expect(fromString.payload).toEqual(Buffer.from('{"a":"é"}', 'utf8'));
    expect(fromString).toMatchObject({ topic: 'vigil/s/d/request/ping', retain: true });
  });

  it('carries the MQTT 5 response topic, correlation data and content type, and no key when absent', () => {
    const correlationData = Buffer.from([1, 2, 3]);
    expect(
      inboundMessage(
        packet({ properties: { responseTopic: 'r/1', correlationData, contentType: 'application/json' } }),
      ),
    ).toEqual({
      topic: 'vigil/s/d/request/ping',
      payload: Buffer.from('{}'),
      retain: false,
      responseTopic: 'r/1',
      correlationData,
      contentType: 'application/json',
    });
    // 3.1.1 packets have no properties; MQTT 5 ones may have unrelated ones only.
    for (const p of [packet(), packet({ properties: { messageExpiryInterval: 5 } })]) {
      expect(Object.keys(inboundMessage(p)).sort()).toEqual(['payload', 'retain', 'topic']);
    }
  });
});

describe('validFilter', () => {
  it('accepts wildcards alone in their level, # only last', () => {
    for (const f of ['a/b', 'a/+/c', '+', '+/+', '#', 'a/#', '+/#', '/', 'a//b', '$SYS/#', 'é/ü']) {
      expect(validFilter(f), f).toBe(true);
    }
  });

  it('refuses empty, misplaced wildcards, NUL and more than 65535 UTF-8 bytes', () => {
    for (const f of ['', 'a/#/b', '#/a', 'a#', 'a/b#', 'a+', '+a/b', 'a/b+/c', '++', 'a/\0']) {
      expect(validFilter(f), JSON.stringify(f)).toBe(false);
    }
    expect(validFilter('a'.repeat(65535))).toBe(true);
    expect(validFilter('a'.repeat(65536))).toBe(false);
    // 32768 characters, 65536 bytes: the limit is in bytes.
    expect(validFilter('é'.repeat(32768))).toBe(false);
  });
});

describe('validTopicName', () => {
  it('accepts plain topics, refuses wildcards, NUL, $-topics, empty and oversize names', () => {
    for (const t of ['a', 'a/b', '/a', 'a//b', 'vigil/s/d/response/x'])
      expect(validTopicName(t), t).toBe(true);
    for (const t of ['', 'a/+', 'a/#', 'a+b', 'a\0b', '$SYS/x', '$share/g/t']) {
      expect(validTopicName(t), JSON.stringify(t)).toBe(false);
    }
    expect(validTopicName('a'.repeat(65535))).toBe(true);
    expect(validTopicName('é'.repeat(32768))).toBe(false);
  });
});

describe('topicMatches', () => {
  it('matches levels exactly, + one level (empty included), # the rest and the parent', () => {
    const yes: [string, string][] = [
      ['a/b', 'a/b'],
      ['a/+/c', 'a/x/c'],
      ['a/+/c', 'a//c'],
      ['+', 'a'],
      ['+/+', '/x'],
      ['a/#', 'a'],
      ['a/#', 'a/b/c'],
      ['#', 'a/b'],
      ['+/b/#', 'a/b'],
    ];
    const no: [string, string][] = [
      ['a/b', 'a/b/c'],
      ['a/b/c', 'a/b'],
      ['a/+', 'a/b/c'],
      ['a/+', 'a'],
      ['+', 'a/b'],
      ['A/b', 'a/b'],
      ['a/#', 'b/a'],
      ['a/b/#', 'a'],
    ];
    for (const [f, t] of yes) expect(topicMatches(f, t), `${f} ~ ${t}`).toBe(true);
    for (const [f, t] of no) expect(topicMatches(f, t), `${f} !~ ${t}`).toBe(false);
  });

  it('keeps first-level wildcards away from $-topics, which an explicit filter still matches', () => {
    expect(topicMatches('#', '$SYS/broker/uptime')).toBe(false);
    expect(topicMatches('+/broker/uptime', '$SYS/broker/uptime')).toBe(false);
    expect(topicMatches('$SYS/#', '$SYS/broker/uptime')).toBe(true);
    expect(topicMatches('$SYS/+/uptime', '$SYS/broker/uptime')).toBe(true);
  });
});

describe('Subscriptions', () => {
  it('says when a filter must be subscribed: only for its first handler', () => {
    const subs = new Subscriptions();
    const [h1, h2] = [recorder(), recorder()];
    expect(subs.add('a/+', h1)).toBe(true);
    expect(subs.add('a/+', h2)).toBe(false);
    expect(subs.add('a/+', h1)).toBe(false); // the same handler twice is one handler
    expect(subs.add('b/#', h1)).toBe(true);
    expect(subs.filters()).toEqual(['a/+', 'b/#']);
  });

  it('says when a filter must be unsubscribed: only when its last handler goes', () => {
    const subs = new Subscriptions();
    const [h1, h2, stranger] = [recorder(), recorder(), recorder()];
    subs.add('a/+', h1);
    subs.add('a/+', h2);
    expect(subs.remove('a/+', stranger)).toBe(false);
    expect(subs.remove('nope', h1)).toBe(false);
    expect(subs.remove('a/+', h1)).toBe(false);
    expect(subs.filters()).toEqual(['a/+']);
    expect(subs.remove('a/+', h2)).toBe(true);
    expect(subs.filters()).toEqual([]);
    expect(subs.remove('a/+', h2)).toBe(false);
    expect(subs.add('a/+', h1)).toBe(true); // gone, so new again
  });

  it('dispatches to every handler of every matching filter, with the payload and the message', () => {
    const subs = new Subscriptions();
    const [h1, h2, h3, other] = [recorder(), recorder(), recorder(), recorder()];
    subs.add('a/+', h1);
    subs.add('a/+', h2);
    subs.add('a/#', h3);
    subs.add('b/#', other);
    subs.add('a/+', h1); // once per message, not once per add
    const seen: [string, InboundMessage][] = [];
    subs.add('a/x', (payload, msg) => seen.push([payload.toString(), msg]));
    const msg = message('a/x', 'hello');
    const errors: unknown[] = [];
    subs.dispatch(msg, (err) => errors.push(err));
    expect([h1.topics, h2.topics, h3.topics, other.topics]).toEqual([['a/x'], ['a/x'], ['a/x'], []]);
    expect(seen).toEqual([['hello', msg]]);
    expect(errors).toEqual([]);
    subs.remove('a/+', h1);
    subs.dispatch(message('a/y'), () => {});
    expect([h1.topics, h2.topics]).toEqual([['a/x'], ['a/x', 'a/y']]);
  });

  it('reports a handler that throws with its filter and topic, and still calls the others', () => {
    const subs = new Subscriptions();
    const [before, after, elsewhere] = [recorder(), recorder(), recorder()];
    const boom = new Error('boom');
    subs.add('a/+', before);
    subs.add('a/+', () => {
      throw boom;
    });
    subs.add('a/+', after);
    subs.add('#', elsewhere);
    const errors: [unknown, string, string][] = [];
    subs.dispatch(message('a/x'), (err, filter, topic) => errors.push([err, filter, topic]));
    expect(errors).toEqual([[boom, 'a/+', 'a/x']]);
    expect([before.topics, after.topics, elsewhere.topics]).toEqual([['a/x'], ['a/x'], ['a/x']]);
  });
});
