import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../config/redact-url.js';

describe('redactUrl', () => {
  it('hides user and password up to the last "@" of the authority', () => {
    expect(redactUrl('rtsp://admin:secret@10.0.0.2:554/s')).toBe('rtsp://***@10.0.0.2:554/s');
    expect(redactUrl('rtsp://admin@10.0.0.2/s')).toBe('rtsp://***@10.0.0.2/s');
    expect(redactUrl('RTSP://a:b@c@host/x?y')).toBe('RTSP://***@host/x?y');
    expect(redactUrl('mqtts://u:p@broker:8883')).toBe('mqtts://***@broker:8883');
  });

  it('hides secret query parameters whatever their case and separator', () => {
    expect(redactUrl('http://cam/a?Password=x&PWD=y&user=admin')).toBe(
      'http://cam/a?Password=***&PWD=***&user=admin',
    );
    expect(redactUrl('http://cam/a?apikey=1;api_key=2&auth=3&secret=4&key=5&pass=6&passwd=7')).toBe(
      'http://cam/a?apikey=***;api_key=***&auth=***&secret=***&key=***&pass=***&passwd=***',
    );
  });

  it('hides the other names cameras, SRT and signed URLs give their secrets', () => {
    // Found on a real agent: a camera source with ?access_token=…&pw=… showed both values in /api/status
    // and in the log.
    expect(
      redactUrl('rtsp://cam/s?access_token=1&pw=2&authToken=3&api-key=4&X-Amz-Signature=5&sig=6&keep=7'),
    ).toBe(
      'rtsp://cam/s?access_token=***&pw=***&authToken=***&api-key=***&X-Amz-Signature=***&sig=***&keep=7',
    );
    expect(redactUrl('srt://cam:9000?mode=caller&passphrase=0123456789')).toBe(
      'srt://cam:9000?mode=caller&passphrase=***',
    );
    expect(redactUrl('https://s3/x.mp4?X-Amz-Credential=a%2Fb&X-Amz-Security-Token=c&X-Amz-Expires=60')).toBe(
      'https://s3/x.mp4?X-Amz-Credential=***&X-Amz-Security-Token=***&X-Amz-Expires=60',
    );
  });

  it('leaves strings without secrets alone', () => {
    for (const s of [
      'rtsp://10.0.0.2/s',
      '/dev/video0',
      'mail me at ops@example.com',
      'http://cam/a?monkey=1&keys=2',
      'http://cam/a?keyframes=1&passes=2&signal=3&author=4&tokens=5',
      '',
    ])
      expect(redactUrl(s)).toBe(s);
  });

  it('hides every URL of a longer text', () => {
    expect(redactUrl('a rtsp://u:p@h1/x b rtsp://u2:p2@h2/y?token=t c')).toBe(
      'a rtsp://***@h1/x b rtsp://***@h2/y?token=*** c',
    );
  });

  it('hides credentials anywhere in a string', () => {
    expect(redactUrl('ffmpeg -i rtsp://admin:pw@10.0.0.2/s -f x http://u:p@h/x')).toBe(
      'ffmpeg -i rtsp://***@10.0.0.2/s -f x http://***@h/x',
    );
    expect(redactUrl('rtsp://10.0.0.2/s')).toBe('rtsp://10.0.0.2/s');
  });

  it('hides a password that itself holds "@", and secret query parameters', () => {
    expect(redactUrl('rtsp://admin:Adm1n@Yard-2024@10.0.0.5:554/stream1 refused')).toBe(
      'rtsp://***@10.0.0.5:554/stream1 refused',
    );
    expect(redactUrl('http://cam/snap.jpg?user=admin&password=Yard@24&pwd=x;token=t#f')).toBe(
      'http://cam/snap.jpg?user=admin&password=***&pwd=***;token=***#f',
    );
    // An "@" after the path is not userinfo.
    expect(redactUrl('rtsp://10.0.0.5/a@b')).toBe('rtsp://10.0.0.5/a@b');
  });
});
