import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../config/load.js';
import {
  hadolintIgnored,
  lintDockerfile,
  parseDockerfile,
  shellcheckRuns,
} from '../../../docker/jetson/lint-dockerfile.js';
import { tensorRtOptions } from '../../../models/runtime/execution-provider.js';
import { repoRoot } from '../../support/shared.js';

const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile.jetson'), 'utf8');
const ignored = hadolintIgnored(path.join(repoRoot, '.hadolint.yaml'));
const rules = (text: string) => lintDockerfile(text).map((f) => f.rule);
const final = 'USER app\nHEALTHCHECK CMD ["true"]\n';

describe('Dockerfile.jetson lints clean', () => {
  it('has no finding from the hadolint rules we check (minus .hadolint.yaml ignores)', () => {
    expect(ignored).toEqual(['DL3008', 'DL3059']);
    expect(lintDockerfile(dockerfile, ignored)).toEqual([]);
  });

  it.skipIf(!existsSync('/usr/bin/shellcheck'))('has no ShellCheck finding in its RUN steps', () => {
    expect(shellcheckRuns(dockerfile, ignored)).toEqual([]);
  });

  it('builds onnxruntime at the version the npm package has, for Orin, with the patch, under Node 22', () => {
    const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string }>;
    };
    const ortVersion = lock.packages['node_modules/onnxruntime-node']!.version;
    expect(dockerfile).toContain(`ARG ORT_VERSION=v${ortVersion}`);
    expect(dockerfile).toContain('ARG CUDA_ARCH=87');
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:22\.\d+\.\d+-/);
    expect(dockerfile).toMatch(/--build_nodejs --use_cuda|--build_nodejs[\s\\]+--use_cuda/);
    expect(dockerfile).toContain('--use_tensorrt');
    expect(dockerfile).toContain(
      'git -C /src/onnxruntime apply /src/onnxruntime-node-tensorrt-options.patch',
    );
    // the binding lands where onnxruntime-node looks on linux/arm64
    expect(dockerfile).toContain('/opt/vigil/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/');
  });

  it('copies only files that exist and that its .dockerignore lets through', () => {
    const allowed = readFileSync(path.join(repoRoot, 'Dockerfile.jetson.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    const sources = parseDockerfile(dockerfile)
      .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(5);
    for (const src of sources) {
      expect(existsSync(path.join(repoRoot, src)), src).toBe(true);
      expect(
        allowed.some((a) => src === a || src.startsWith(`${a}/`)),
        src,
      ).toBe(true);
    }
  });

  it('runs as a non-root user with volumes for config, data and the TensorRT cache and a /healthz check', () => {
    const runtime = parseDockerfile(dockerfile).filter(
      (i) => i.stage === Math.max(...parseDockerfile(dockerfile).map((x) => x.stage)),
    );
    expect(runtime.find((i) => i.keyword === 'USER')?.args).toBe('vigil');
    expect(runtime.find((i) => i.keyword === 'VOLUME')?.args).toBe(
      '["/etc/vigil", "/var/lib/vigil/data", "/var/lib/vigil/trt-cache"]',
    );
    expect(runtime.find((i) => i.keyword === 'HEALTHCHECK')?.args).toContain('docker/jetson/healthcheck.mjs');
    expect(dockerfile).toContain('VIGIL_HEALTH_URL=http://127.0.0.1:8080/healthz');
  });
});

describe('the example Jetson config', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('is valid, and puts TensorRT engines on the cache volume', () => {
    // The secrets it takes from the environment (an unset one is a config error).
    for (const v of ['VIGIL_MQTT_USER', 'VIGIL_MQTT_PASSWORD', 'CAMERA_USER', 'CAMERA_PASSWORD'])
      vi.stubEnv(v, 'x');
    const cfg = loadConfig(path.join(repoRoot, 'docker/jetson/vigil.example.yaml'));
    expect(cfg.cameras[0]).toMatchObject({ hwaccel: 'jetson' });
    expect(tensorRtOptions(cfg.models.det!, cfg.dataDir)).toMatchObject({
      trt_fp16_enable: '1',
      trt_engine_cache_path: '/var/lib/vigil/trt-cache',
      trt_max_workspace_size: String(1024 * 1024 * 1024),
    });
  });
});

describe('the Dockerfile linter catches what it checks', () => {
  it.each([
    ['DL3006', 'FROM ubuntu\n'],
    ['DL3007', 'FROM ubuntu:latest\n'],
    ['DL3024', 'FROM a:1 AS x\nFROM b:1 AS x\n'],
    ['DL3022', 'FROM a:1\nCOPY --from=nowhere /a /b\n'],
    ['DL3000', 'FROM a:1\nWORKDIR app\n'],
    ['DL3002', 'FROM a:1\nUSER root\nHEALTHCHECK CMD ["true"]\n'],
    ['DL3003', 'FROM a:1\nRUN cd /tmp && make\n'],
    ['DL3004', 'FROM a:1\nRUN sudo make\n'],
    ['DL3009', 'FROM a:1\nRUN apt-get update && apt-get install -y --no-install-recommends git\n'],
    ['DL3014', 'FROM a:1\nRUN apt-get install --no-install-recommends git && rm -rf /var/lib/apt/lists/*\n'],
    ['DL3015', 'FROM a:1\nRUN apt-get install -y git && rm -rf /var/lib/apt/lists/*\n'],
    ['DL3027', 'FROM a:1\nRUN apt install -y git\n'],
    ['DL3013', 'FROM a:1\nRUN pip3 install --no-cache-dir cmake\n'],
    ['DL3042', 'FROM a:1\nRUN pip3 install cmake==3.31.6\n'],
    ['DL3016', 'FROM a:1\nRUN npm install -g left-pad\n'],
    ['DL3020', 'FROM a:1\nADD file.txt /x/\n'],
    ['DL3025', 'FROM a:1\nCMD node app.js\n'],
    ['DL3045', 'FROM a:1\nCOPY a.txt b.txt\n'],
    ['DL3046', 'FROM a:1\nRUN useradd -u 10001 app\n'],
    ['DL3047', 'FROM a:1\nRUN wget https://x/y\n'],
    ['DL4001', 'FROM a:1\nRUN wget -q https://x/y\nRUN curl -fsSL https://x/z\n'],
    ['DL4003', 'FROM a:1\nCMD ["a"]\nCMD ["b"]\n'],
    ['DL4006', 'FROM a:1\nRUN curl -fsSL https://x | tar x\n'],
    ['VG001', 'FROM a:1\nHEALTHCHECK CMD ["true"]\n'],
    ['VG002', 'FROM a:1\nUSER app\n'],
  ])('%s', (rule, text) => {
    expect(rules(text)).toContain(rule);
  });

  it('joins continuation lines and skips comments inside them', () => {
    const text = `FROM a:1\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN apt-get update \\\n  # why\n  && apt-get install -y --no-install-recommends git \\\n  && rm -rf /var/lib/apt/lists/*\n${final}`;
    expect(parseDockerfile(text).map((i) => [i.line, i.keyword])).toEqual([
      [1, 'FROM'],
      [2, 'SHELL'],
      [3, 'RUN'],
      [7, 'USER'],
      [8, 'HEALTHCHECK'],
    ]);
    expect(lintDockerfile(text)).toEqual([]);
  });
});
