// Docker HEALTHCHECK for the Jetson image: healthy while the agent answers /healthz with a 2xx.
// A script (not curl) because the runtime image has Node and no curl; the URL comes from the environment
// so a site that moves the status page (http.port) moves the check with it.
const url = process.env.VIGIL_HEALTH_URL || 'http://127.0.0.1:8080/healthz';
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  if (!res.ok) {
    console.error(`${url}: HTTP ${res.status}`);
    process.exit(1);
  }
} catch (err) {
  console.error(`${url}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
