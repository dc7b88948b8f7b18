import { redactUrl } from '../../config/redact-url.js';

/**
 * How ffmpeg or ffprobe opens an input without its credentials on the command line, where every local user
 * reads them (`ps`, /proc/PID/cmdline). A network URL with a user, a password or a secret query parameter
 * goes instead into a one-entry concat list written to the process's stdin; the input options of the source
 * kinds that belong to the URL's demuxer or protocol move onto the list's `option` lines.
 */
export interface SecretInput {
  /** What follows `-i`: `pipe:0` when the URL went into the list. */
  input: string;
  /** The input options left on the command line, plus those that read the list. */
  args: string[];
  /** The concat list for stdin; absent when nothing needed hiding. */
  stdin?: string;
  /** `input` as messages may show it: the URL, credentials redacted. */
  shown: string;
}

/** Options the source kinds give (source-kinds.ts) that the URL's own demuxer or protocol must get. */
const urlOptions = new Set(['-rtsp_transport', '-timeout', '-rw_timeout']);

/** The protocols an RTSP or HTTP source may need behind the list (ffmpeg allows none by default there). */
const protocols: Record<string, string> = {
  rtsp: 'pipe,rtsp,rtsps,rtp,srtp,tcp,udp,tls,http,https,crypto',
  http: 'pipe,http,https,tcp,tls,crypto',
};

/** A token of the concat list: single-quoted, a quote itself written as '\'' (ffmpeg's av_get_token). */
const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

export function secretInput(input: string, args: readonly string[]): SecretInput {
  const shown = redactUrl(input);
  const scheme = /^([a-z]+):\/\//i.exec(input)?.[1]?.toLowerCase().replace(/s$/, '');
  const whitelist = scheme ? protocols[scheme] : undefined;
  // Nothing to hide, or not a network URL; a line break would end the list's entry, so such a URL (which
  // no camera has) stays where ffmpeg reports it as invalid.
  if (shown === input || !whitelist || /[\r\n]/.test(input)) return { input, args: [...args], shown };
  const kept: string[] = [];
  const lines = ['ffconcat version 1.0', `file ${quote(input)}`];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = args[i + 1];
    if (urlOptions.has(arg) && value !== undefined) {
      lines.push(`option ${arg.slice(1)} ${quote(value)}`);
      i++;
    } else kept.push(arg);
  }
  return {
    input: 'pipe:0',
    args: [...kept, '-f', 'concat', '-safe', '0', '-protocol_whitelist', whitelist],
    stdin: lines.join('\n') + '\n',
    shown,
  };
}

/** ffmpeg names the list `pipe:0` in its messages; they name the (redacted) URL instead. */
export function showInput(text: string, hidden: SecretInput): string {
  return hidden.stdin ? redactUrl(text.replaceAll('pipe:0', hidden.shown)) : text;
}
