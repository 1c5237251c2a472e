/**
 * The console's stylesheet and script, inlined into every page (no build step, no framework). The
 * script only reads the API the page was served by: the Logs API for the logs, the runtime for the
 * invoke form, and the page itself for the parts that change.
 */
export const CONSOLE_CSS = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#16191f;background:#f2f3f3}
header{background:#232f3e;color:#fff;padding:10px 24px}header a.home{color:#fff;font-weight:600;text-decoration:none;font-size:16px}header .sub{color:#aab7b8}
main{max-width:1180px;margin:0 auto;padding:16px 24px 48px}h1{font-size:22px;margin:8px 0 12px;word-break:break-all}h2{font-size:16px;margin:22px 0 8px}
section{background:#fff;border:1px solid #d5dbdb;border-radius:8px;padding:4px 16px 14px;margin:14px 0}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #eaeded;vertical-align:top}th{font-weight:600;color:#545b64}
a{color:#0073bb}.sub,.empty,.crumbs{color:#687078}.count{color:#687078;font-weight:400}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px;background:#eaeded}
.badge.completed,.badge.inservice{background:#e9f7e9;color:#1d8102}.badge.failed{background:#fde8e8;color:#d13212}.badge.inprogress,.badge.creating,.badge.updating,.badge.stopping{background:#e6f2fb;color:#0073bb}.badge.stopped{background:#fcf3e3;color:#8d6605}
.secondary{margin-left:8px;color:#545b64}
.failure{border:1px solid #d13212;background:#fdf3f1;border-radius:8px;padding:8px 14px;margin:10px 0}.failure pre{white-space:pre-wrap;margin:6px 0 0;font-size:13px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:8px 0}dt{color:#545b64}dd{margin:0;word-break:break-all}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{margin:0;border:1px solid #eaeded;border-radius:6px;background:#fff}
.chart .title{font-weight:600;font-size:12px}.chart .tick{font-size:10px;fill:#687078}.chart .grid{stroke:#eaeded}.chart .axis{stroke:#879596}
.chart .series{fill:none;stroke:#0073bb;stroke-width:1.6}.chart .point{fill:#0073bb}
pre.logs{background:#16191f;color:#d5dbdb;padding:10px 12px;border-radius:6px;max-height:480px;overflow:auto;font-size:12px;white-space:pre-wrap;word-break:break-all;margin:0}
pre.logs .host{color:#7fb3d5}
form{display:grid;grid-template-columns:repeat(4,1fr);gap:8px 12px;align-items:end}form label{display:flex;flex-direction:column;gap:2px;color:#545b64;font-size:12px}
form .wide{grid-column:1/-1}input,select,textarea{font:13px ui-monospace,monospace;padding:5px 7px;border:1px solid #aab7b8;border-radius:4px}
button{grid-column:1;background:#ec7211;color:#fff;border:0;border-radius:4px;padding:7px 14px;font-weight:600;cursor:pointer}
#response pre{background:#f7f8f8;border:1px solid #eaeded;border-radius:6px;padding:8px;white-space:pre-wrap;word-break:break-all}
ul.files{margin:6px 0;padding-left:18px}code{font:12px ui-monospace,monospace}
`;

export const CONSOLE_SCRIPT = `
(() => {
  const data = document.body.dataset;
  async function api(target, body) {
    const r = await fetch('/', { method: 'POST', headers: { 'X-Amz-Target': target, 'Content-Type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) });
    const out = await r.json();
    if (!r.ok) throw Object.assign(new Error(out.message || out.Message || r.status), { code: out.__type });
    return out;
  }
  // Logs: FilterLogEvents from the last time seen, each event once.
  const logs = document.getElementById('logs');
  if (logs && data.logGroup) {
    const seen = new Set();
    let since = 0;
    // Once the resource has settled, two more rounds fetch its last lines.
    let after = 2;
    const state = document.getElementById('log-state');
    async function poll() {
      try {
        let token;
        do {
          const out = await api('Logs_20140328.FilterLogEvents', { logGroupName: data.logGroup, ...(data.logPrefix ? { logStreamNamePrefix: data.logPrefix } : {}), startTime: since, ...(token ? { nextToken: token } : {}) });
          const atEnd = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 4;
          for (const e of out.events) {
            if (seen.has(e.eventId)) continue;
            seen.add(e.eventId);
            since = Math.max(since, e.timestamp);
            // A job's streams are <job>/<host>-<epoch>; an endpoint's <variant>/<instance>.
            const host = data.logPrefix ? e.logStreamName.slice(data.logPrefix.length).replace(/-\\d+$/, '') : e.logStreamName;
            const line = document.createElement('div');
            // Each line names its host when there are several (a job's), and its instance on an endpoint.
            if (Number(data.hosts || 1) > 1 || data.logPrefix === '') {
              const h = document.createElement('span');
              h.className = 'host';
              h.textContent = '[' + host + '] ';
              line.append(h);
            }
            line.append(document.createTextNode(e.message));
            logs.append(line);
          }
          if (atEnd) logs.scrollTop = logs.scrollHeight;
          token = out.nextToken;
        } while (token);
        state.textContent = seen.size ? seen.size + (seen.size === 1 ? ' line' : ' lines') : 'no lines yet';
      } catch (err) {
        state.textContent = err.code === 'ResourceNotFoundException' ? 'no lines yet' : 'could not read the logs: ' + err.message;
      }
      if (data.terminal !== 'yes' || after-- > 0) setTimeout(poll, 1500);
    }
    poll();
  }
  // The parts that change (status, charts, artifacts), fetched again while the resource is not settled.
  async function refresh() {
    if (data.terminal === 'yes') return;
    try {
      const r = await fetch(location.href, { headers: { Accept: 'text/html' } });
      const next = new DOMParser().parseFromString(await r.text(), 'text/html');
      for (const part of document.querySelectorAll('[data-live]')) {
        const fresh = next.querySelector('[data-live="' + part.dataset.live + '"]');
        if (fresh) part.replaceWith(fresh);
      }
      data.status = next.body.dataset.status || '';
      data.terminal = next.body.dataset.terminal || 'no';
    } catch {}
    setTimeout(refresh, 2000);
  }
  setTimeout(refresh, 2000);
  // The invoke form: InvokeEndpoint through the runtime on this port; the answer with its headers.
  const form = document.getElementById('invoke');
  if (form) {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      const headers = {};
      if (f.get('contentType')) headers['Content-Type'] = f.get('contentType');
      if (f.get('accept')) headers['Accept'] = f.get('accept');
      if (f.get('variant')) headers['X-Amzn-SageMaker-Target-Variant'] = f.get('variant');
      if (f.get('customAttributes')) headers['X-Amzn-SageMaker-Custom-Attributes'] = f.get('customAttributes');
      const started = performance.now();
      const box = document.getElementById('response');
      try {
        const r = await fetch('/endpoints/' + encodeURIComponent(form.dataset.endpoint) + '/invocations', { method: 'POST', headers, body: f.get('body') });
        const text = await r.text();
        document.getElementById('response-status').textContent = r.status + ' ' + r.statusText + ' · ' + Math.round(performance.now() - started) + ' ms';
        document.getElementById('response-headers').textContent = [...r.headers].map(([k, v]) => k + ': ' + v).join('\\n');
        document.getElementById('response-body').textContent = text;
      } catch (err) {
        document.getElementById('response-status').textContent = 'failed: ' + err.message;
      }
      box.hidden = false;
    });
  }
})();
`;
