/* global process, fetch, AbortSignal */
// Container HEALTHCHECK: the slim runtime has no curl or wget, and Node 20 has fetch.
// Liveness only (GET /health/live), so a container that is still loading the model is not
// reported unhealthy.
const port = process.env.PORT || '3000';
fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(4000) })
  .then((res) => process.exit(res.ok ? 0 : 1))
  .catch(() => process.exit(1));
