// A steady, bounded request loop: `concurrency` workers, each sending one request after another.
/**
 * Starts sending `POST url` through `fetch` until `stop()` is called; counts made and failed
 * requests and keeps the first few failures for the report.
 */
export function startLoad(fetch, url, { concurrency = 4 } = {}) {
  const stats = { made: 0, failed: 0, failures: [] };
  let running = true;
  const worker = async () => {
    while (running) {
      stats.made++;
      try {
        const answer = await fetch(url, { method: 'POST' });
        await answer.arrayBuffer();
        if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`);
      } catch (error) {
        stats.failed++;
        if (stats.failures.length < 5) stats.failures.push(error.cause?.code ?? error.message);
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(workers);
      return stats;
    },
  };
}
