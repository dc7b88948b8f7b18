import type { CameraConfig } from '../../config/schema.js';

export type SourceKindName = 'rtsp' | 'http' | 'file' | 'v4l2';

/** What differs between kinds of source: how ffmpeg opens them, and whether they end or come back. */
export interface SourceKind {
  name: SourceKindName;
  /** Arguments placed before `-i`. */
  inputArgs(camera: CameraConfig): string[];
  /** The `-i` value ffmpeg gets. */
  input(camera: CameraConfig): string;
  /** A file can end; live sources are restarted when they stop. */
  finite: boolean;
}

const microseconds = (s: number) => String(Math.round(s * 1_000_000));

/** Explicit registry of source kinds (no discovery): see DEVELOPERS.md. */
export const sourceKinds: Record<SourceKindName, SourceKind> = {
  rtsp: {
    name: 'rtsp',
    // TCP interleaving survives NAT and lossy Wi-Fi; the socket timeout turns a silent camera into an exit.
    inputArgs: (c) => ['-rtsp_transport', 'tcp', '-timeout', microseconds(c.connectTimeoutS)],
    input: (c) => c.source,
    finite: false,
  },
  http: {
    name: 'http',
    inputArgs: (c) => ['-rw_timeout', microseconds(c.connectTimeoutS)],
    input: (c) => c.source,
    finite: false,
  },
  file: {
    name: 'file',
    inputArgs: (c) => [...(c.realtime ? ['-re'] : []), ...(c.loop ? ['-stream_loop', '-1'] : [])],
    input: (c) =>
      c.source.startsWith('file://') ? decodeURIComponent(new URL(c.source).pathname) : c.source,
    finite: true,
  },
  v4l2: {
    name: 'v4l2',
    inputArgs: () => ['-f', 'v4l2'],
    input: (c) => c.source,
    finite: false,
  },
};

export function sourceKindOf(source: string): SourceKind {
  if (source.startsWith('/dev/video')) return sourceKinds.v4l2;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(source)?.[1]?.toLowerCase();
  if (scheme === 'rtsp' || scheme === 'rtsps') return sourceKinds.rtsp;
  if (scheme === 'http' || scheme === 'https') return sourceKinds.http;
  return sourceKinds.file;
}
