// minerscope dashboard: plain ES2020, no build step. Every figure comes from
// the JSON API of the same server; charts are drawn with the vendored uPlot.
'use strict';

(() => {
  // How often to ask whether a new block arrived; ?poll=ms overrides it (the
  // browser test uses a short one).
  const POLL_MS = (() => {
    const ms = Number(new URLSearchParams(location.search).get('poll'));
    return ms >= 100 ? ms : 5000;
  })();
  const INTERVALS = ['1m', '3m', '6m', '1y', '2y', '3y', 'all'];

  const state = {
    interval: '1y',
    hash: null, // index_hash of the figures on screen
    loading: false,
    charts: {}, // element id -> uPlot
    status: null, // the last status response
  };

  const $ = (id) => document.getElementById(id);

  // ---- fetching

  class APIError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function getJSON(path) {
    let resp;
    try {
      resp = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    } catch (e) {
      throw new APIError(0, 'cannot reach the minerscope API');
    }
    let body = null;
    try {
      body = await resp.json();
    } catch (e) {
      body = null;
    }
    if (!resp.ok) {
      throw new APIError(resp.status, (body && body.error) || resp.statusText || `HTTP ${resp.status}`);
    }
    return body;
  }

  // ---- formatting (units, UTC dates)

  // sig formats a value in [0, 1000) with three significant digits.
  function sig(v) {
    const a = Math.abs(v);
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    return v.toFixed(2);
  }

  // scaled divides v by 1000 until it is below 1000 and returns the text with
  // the matching unit.
  function scaled(v, units) {
    if (v == null || !isFinite(v)) return '–';
    let i = 0;
    while (Math.abs(v) >= 1000 && i < units.length - 1) {
      v /= 1000;
      i++;
    }
    const s = sig(v);
    return units[i] ? `${s} ${units[i]}` : s;
  }

  const HASH_UNITS = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s', 'PH/s', 'EH/s', 'ZH/s', 'YH/s'];
  const fmtHashrate = (hs) => scaled(hs, HASH_UNITS);
  const fmtDifficulty = (d) => scaled(d, ['', 'k', 'M', 'G', 'T', 'P', 'E']);
  const fmtInt = (n) => (n == null ? '–' : Math.round(n).toLocaleString('en-US'));

  // fmtBTC formats an integer amount of satoshis as BTC with two decimals,
  // with integer arithmetic so that large amounts do not pick up float noise.
  function fmtBTC(sat) {
    if (sat == null) return '–';
    const neg = sat < 0;
    const cents = Math.round(Math.abs(sat) / 1e6);
    const whole = Math.floor(cents / 100).toLocaleString('en-US');
    const frac = String(cents % 100).padStart(2, '0');
    return `${neg ? '−' : ''}${whole}.${frac} BTC`;
  }

  const btc = (sat) => (sat == null ? null : sat / 1e8);

  function fmtBTCShort(v) {
    if (v == null || !isFinite(v)) return '–';
    return scaled(v, ['', 'k', 'M']) + ' BTC';
  }

  function iso(s) {
    const d = new Date(s);
    return isNaN(d) ? null : d.toISOString();
  }

  // fmtTime gives "2009-05-12 14:03 UTC".
  function fmtTime(s) {
    const t = iso(s);
    return t ? `${t.slice(0, 10)} ${t.slice(11, 16)} UTC` : '–';
  }

  // fmtRange gives "2009-05-10 06:00 – 2009-05-12 18:00 UTC".
  function fmtRange(lo, hi) {
    return `${fmtTime(lo).replace(' UTC', '')} – ${fmtTime(hi)}`;
  }

  const fmtDay = (s) => (iso(s) || '–').slice(0, 10);

  function fmtPct(p) {
    if (p == null || !isFinite(p)) return '–';
    return `${p > 0 ? '+' : p < 0 ? '−' : ''}${Math.abs(p).toFixed(2)}%`;
  }

  function fmtDuration(sec) {
    const a = Math.abs(sec);
    if (a >= 2 * 86400) return `${(sec / 86400).toFixed(1)} days`;
    if (a >= 2 * 3600) return `${(sec / 3600).toFixed(1)} hours`;
    return `${Math.round(sec / 60)} minutes`;
  }

  const unix = (s) => Date.parse(s) / 1000;

  function setText(id, text, value) {
    const el = $(id);
    el.textContent = text;
    if (value !== undefined) el.dataset.value = String(value);
    return el;
  }

  // ---- status header

  function renderStatus(st) {
    $('network').textContent = st.network;
    setText('index-height', fmtInt(st.index_height), st.index_height).title = st.index_hash;
    setText('index-time', fmtTime(st.index_time), st.index_time);
    setText('node-height', st.node_height == null ? 'unknown' : fmtInt(st.node_height), st.node_height ?? '');
    const sync = $('sync-state');
    sync.classList.remove('ok', 'bad');
    if (st.last_error) {
      sync.textContent = `error (${fmtInt(st.sync_errors)})`;
      sync.title = st.last_error;
      sync.classList.add('bad');
    } else if (st.following) {
      sync.textContent = 'following';
      sync.title = st.last_sync ? `last sync ${fmtTime(st.last_sync)}` : '';
      sync.classList.add('ok');
    } else {
      sync.textContent = 'not following';
      sync.title = '';
    }
  }

  function showBanner(text) {
    const b = $('banner');
    b.textContent = text;
    b.hidden = !text;
  }

  // ---- key figures

  function renderHashrate(hr) {
    setText('hashrate-current', fmtHashrate(hr.hashrate_hs), hr.hashrate_hs);
    $('hashrate-range').textContent = hr.has_interval
      ? `95% interval ${fmtHashrate(hr.lo_hs)} – ${fmtHashrate(hr.hi_hs)}`
      : 'too few blocks for an interval';
    $('hashrate-blocks').textContent =
      `blocks ${fmtInt(hr.from_height)}–${fmtInt(hr.to_height)}, ${fmtTime(hr.from_time)} to ${fmtTime(hr.to_time)}`;
  }

  function renderNext(na) {
    const r = 2016; // blocks per epoch on every network minerscope knows
    setText('difficulty-current', fmtDifficulty(na.current_difficulty), na.current_difficulty);
    const epochStart = na.next_retarget_height - r;
    $('difficulty-epoch').textContent = `epoch ${fmtInt(Math.floor(epochStart / r))}, since block ${fmtInt(epochStart)}`;
    $('difficulty-bits').textContent = `projected next: ${fmtDifficulty(na.projected_difficulty)}`;

    setText('blocks-remaining', fmtInt(na.blocks_remaining), na.blocks_remaining);
    $('retarget-height').textContent = `to go, up to block ${fmtInt(na.next_retarget_height - 1)}, which sets the difficulty from block ${fmtInt(na.next_retarget_height)}`;

    setText('adjustment-date', fmtTime(na.date), na.date);
    const ahead = unix(na.date) - unix(na.now);
    $('adjustment-date-range').textContent =
      `in about ${fmtDuration(ahead)}; 95%: ${fmtRange(na.date_lo, na.date_hi)}`;

    const ch = setText('adjustment-change', fmtPct(na.change_pct), na.change_pct);
    ch.classList.toggle('up', na.change_pct > 0);
    ch.classList.toggle('down', na.change_pct < 0);
    $('adjustment-change-range').textContent = `95%: ${fmtPct(na.change_lo_pct)} to ${fmtPct(na.change_hi_pct)}`;

    const done = Math.max(0, Math.min(r, r - na.blocks_remaining));
    $('epoch-progress').style.width = `${((100 * done) / r).toFixed(1)}%`;
    $('adjustment-note').textContent =
      `Projected from the hashrate since the epoch began, counted from the tip's time (${fmtTime(na.now)}); ` +
      `intervals are 95% from the Poisson model of block discovery.`;

    $('halving').textContent = na.halving_height
      ? `Next halving at block ${fmtInt(na.halving_height)}, ${fmtInt(na.halving_blocks_remaining)} blocks, ~${fmtDay(na.halving_date)} (95%: ${fmtDay(na.halving_date_lo)} – ${fmtDay(na.halving_date_hi)})`
      : '';
  }

  function renderReserve(res, err) {
    const el = $('reserve-btc');
    if (err) {
      el.textContent = err.status === 404 ? 'no full blocks indexed' : 'unavailable';
      el.classList.add('mid');
      el.classList.remove('big');
      el.dataset.state = err.status === 404 ? 'empty' : 'error';
      delete el.dataset.sat;
      $('reserve-note').textContent = err.message;
      return;
    }
    const text = fmtBTC(res.reserve_sat);
    const unitAt = text.lastIndexOf(' ');
    el.textContent = text.slice(0, unitAt + 1);
    const unit = document.createElement('span');
    unit.className = 'unit';
    unit.textContent = text.slice(unitAt + 1);
    el.appendChild(unit);
    el.classList.add('big');
    el.classList.remove('mid');
    el.dataset.state = 'ok';
    el.dataset.sat = String(res.reserve_sat);
    $('reserve-note').textContent =
      `unspent in miners' outputs at block ${fmtInt(res.height)} (${fmtTime(res.time)}), tracked from block ${fmtInt(res.tracked_from_height)}`;
  }

  // ---- charts

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function chartHeight() {
    return window.innerWidth <= 640 ? 220 : 260;
  }

  // logScale tells whether values spanning this range read better on a log axis.
  function logScale(values) {
    let lo = Infinity;
    let hi = 0;
    for (const v of values) {
      if (v > 0) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    return hi > 0 && hi / lo > 200;
  }

  function axis(fmt, extra) {
    return Object.assign({
      stroke: css('--muted'),
      grid: { stroke: css('--line'), width: 1 },
      ticks: { stroke: css('--line'), width: 1 },
      values: (u, splits) => splits.map((v) => (v == null ? '' : fmt(v))),
      size: 64,
    }, extra || {});
  }

  function timeAxis() {
    return {
      stroke: css('--muted'),
      grid: { stroke: css('--line'), width: 1 },
      ticks: { stroke: css('--line'), width: 1 },
    };
  }

  function drawChart(id, opts, data) {
    const el = $(id);
    if (state.charts[id]) {
      state.charts[id].destroy();
      delete state.charts[id];
    }
    el.textContent = '';
    el.hidden = false;
    el.dataset.drawn = 'false';
    const full = Object.assign({
      width: Math.max(200, el.clientWidth),
      height: chartHeight(),
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
      cursor: { points: { size: 6 } },
      legend: { live: true },
    }, opts);
    full.hooks = { draw: [() => { el.dataset.drawn = 'true'; }] };
    el.dataset.points = String(data[0].length);
    state.charts[id] = new uPlot(full, data, el);
  }

  function chartMessage(id, text) {
    const el = $(id);
    if (state.charts[id]) {
      state.charts[id].destroy();
      delete state.charts[id];
    }
    el.innerHTML = '';
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = text;
    el.appendChild(p);
    el.dataset.drawn = 'empty';
    el.dataset.points = '0';
  }

  function renderHashrateChart(series) {
    const pts = series.points || [];
    const explain = $('explain-hashrate');
    if (pts.length === 0) {
      chartMessage('chart-hashrate', 'No blocks in this interval.');
      explain.textContent = '';
      return;
    }
    const x = pts.map((p) => unix(p.start));
    const est = pts.map((p) => p.hashrate_hs);
    const hi = pts.map((p) => (p.hi_hs > 0 ? p.hi_hs : null));
    const lo = pts.map((p) => (p.lo_hs > 0 ? p.lo_hs : null));
    const log = logScale(est);
    const accent = css('--accent');
    drawChart('chart-hashrate', {
      scales: { y: { distr: log ? 3 : 1 } },
      series: [
        { label: 'date (UTC)', value: (u, v) => (v == null ? '–' : fmtDay(v * 1000)) },
        { label: `${series.period} estimate`, stroke: accent, width: 2, value: (u, v) => fmtHashrate(v) },
        { label: '95% high', stroke: css('--accent-soft'), width: 1, value: (u, v) => fmtHashrate(v) },
        { label: '95% low', stroke: css('--accent-soft'), width: 1, value: (u, v) => fmtHashrate(v) },
      ],
      bands: [{ series: [2, 3], fill: css('--accent-soft') }],
      axes: [timeAxis(), axis(fmtHashrate, { size: 78 })],
    }, [x, est, hi, lo]);
    const first = pts[0];
    const last = pts[pts.length - 1];
    explain.textContent =
      `${series.period === 'weekly' ? 'Weekly' : 'Daily'} hashrate estimate${log ? ' (log scale)' : ''}; ` +
      `shaded: 95% interval from the Poisson model of block discovery; ` +
      `blocks ${fmtInt(first.from_height)}–${fmtInt(last.to_height)}, ${fmtDay(first.start)} to ${fmtDay(last.end)}.`;
  }

  function renderEpochs(epochs, tipTime) {
    const explain = $('explain-difficulty');
    if (!epochs || epochs.length === 0) {
      chartMessage('chart-difficulty', 'No epochs in this interval.');
      explain.textContent = '';
      return;
    }
    const x = epochs.map((e) => unix(e.start_time));
    const d = epochs.map((e) => e.difficulty);
    const last = epochs[epochs.length - 1];
    const end = unix(last.end_time || tipTime);
    if (end > x[x.length - 1]) {
      x.push(end);
      d.push(last.difficulty);
    }
    const log = logScale(d);
    drawChart('chart-difficulty', {
      scales: { y: { distr: log ? 3 : 1 } },
      series: [
        { label: 'date (UTC)', value: (u, v) => (v == null ? '–' : fmtDay(v * 1000)) },
        {
          label: 'difficulty', stroke: css('--blue'), width: 2, fill: css('--blue-soft'),
          paths: uPlot.paths.stepped({ align: 1 }),
          value: (u, v) => fmtDifficulty(v),
        },
      ],
      axes: [timeAxis(), axis(fmtDifficulty)],
    }, [x, d]);
    explain.textContent =
      `Difficulty of each 2016-block epoch${log ? ' (log scale)' : ''}; epochs ${fmtInt(epochs[0].epoch)}–${fmtInt(last.epoch)}, ` +
      `blocks ${fmtInt(epochs[0].start_height)}–${fmtInt(last.end_height)}. ` +
      `Table: hashrate per epoch with its 95% interval from the Poisson model of block discovery.`;

    const tbody = $('epochs-table').tBodies[0];
    tbody.textContent = '';
    for (const e of epochs.slice(-8).reverse()) {
      const tr = document.createElement('tr');
      const cells = [
        [fmtInt(e.epoch) + (e.complete ? '' : ' (current)'), ''],
        [`${fmtInt(e.start_height)}–${fmtInt(e.end_height)}`, ''],
        [fmtDay(e.start_time), ''],
        [fmtDifficulty(e.difficulty), 'num'],
        [e.epoch === epochs[0].epoch && e.change_pct === 0 ? '–' : fmtPct(e.change_pct), 'num'],
        [fmtHashrate(e.hashrate_hs), 'num', `${fmtHashrate(e.hashrate_lo_hs)} – ${fmtHashrate(e.hashrate_hi_hs)}`],
      ];
      for (const [text, cls, sub] of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        if (cls) td.className = cls;
        if (sub) {
          const span = document.createElement('span');
          span.className = 'range';
          span.textContent = sub;
          td.appendChild(span);
        }
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
  }

  function renderPools(pools) {
    const box = $('pools');
    box.textContent = '';
    const rows = (pools || []).slice().sort((a, b) => b.blocks - a.blocks);
    const total = rows.reduce((s, p) => s + p.blocks, 0);
    box.dataset.rows = String(rows.length);
    if (rows.length === 0) {
      box.textContent = 'No blocks in this interval.';
      $('explain-pools').textContent = '';
      return;
    }
    const shown = rows.slice(0, 10);
    const rest = rows.slice(10);
    if (rest.length > 0) {
      const blocks = rest.reduce((s, p) => s + p.blocks, 0);
      shown.push({ pool: `${rest.length} others`, blocks, share: blocks / total });
    }
    const max = Math.min(1, Math.ceil(Math.max(...shown.map((p) => p.share_hi || p.share)) * 10) / 10 || 1);
    for (const p of shown) {
      const row = document.createElement('div');
      row.className = 'pool';
      row.dataset.pool = p.pool;
      const name = document.createElement('div');
      name.className = 'pool-name';
      name.textContent = p.pool;
      name.title = p.pool;
      const track = document.createElement('div');
      track.className = 'pool-track';
      const bar = document.createElement('div');
      bar.className = 'pool-bar';
      bar.style.width = `${((100 * p.share) / max).toFixed(2)}%`;
      track.appendChild(bar);
      if (p.share_lo != null && p.share_hi != null) {
        const ci = document.createElement('div');
        ci.className = 'pool-ci';
        ci.style.left = `${((100 * p.share_lo) / max).toFixed(2)}%`;
        ci.style.width = `${((100 * (p.share_hi - p.share_lo)) / max).toFixed(2)}%`;
        track.appendChild(ci);
      }
      const val = document.createElement('div');
      val.className = 'pool-val';
      const range = p.share_lo != null ? ` (${(100 * p.share_lo).toFixed(1)}–${(100 * p.share_hi).toFixed(1)}%)` : '';
      const rate = p.hashrate_hs ? ` · ${fmtHashrate(p.hashrate_hs)}` : '';
      val.textContent = `${(100 * p.share).toFixed(1)}%${range} · ${fmtInt(p.blocks)} blocks${rate}`;
      row.append(name, val, track);
      box.appendChild(row);
    }
    $('explain-pools').textContent =
      `Share of the ${fmtInt(total)} blocks in the interval, by coinbase tag or payout address; ` +
      `whiskers: 95% interval from the binomial model of block discovery. Axis up to ${Math.round(100 * max)}%.`;
  }

  function renderOutflow(data, err) {
    const empty = $('outflow-empty');
    const explain = $('explain-outflow');
    const el = $('chart-outflow');
    if (err) {
      if (state.charts['chart-outflow']) {
        state.charts['chart-outflow'].destroy();
        delete state.charts['chart-outflow'];
      }
      el.textContent = '';
      el.hidden = true;
      if (err.status === 404) {
        el.dataset.drawn = 'empty';
        empty.hidden = false;
        $('outflow-empty-msg').textContent = `API: ${err.message}`;
        explain.textContent = '';
      } else {
        el.dataset.drawn = 'error';
        empty.hidden = true;
        explain.textContent = `Cannot load outflows: ${err.message}`;
        explain.classList.add('error');
      }
      return;
    }
    empty.hidden = true;
    explain.classList.remove('error');
    const pts = data.points || [];
    if (pts.length === 0) {
      el.hidden = false;
      chartMessage('chart-outflow', 'No full blocks in this interval.');
      explain.textContent = '';
      return;
    }
    const x = pts.map((p) => unix(p.start));
    const out = pts.map((p) => btc(p.outflow_sat));
    const reserve = pts.map((p) => btc(p.reserve_sat));
    drawChart('chart-outflow', {
      scales: { out: { auto: true }, res: { auto: true } },
      series: [
        { label: 'date (UTC)', value: (u, v) => (v == null ? '–' : fmtDay(v * 1000)) },
        {
          label: 'outflow', scale: 'out', stroke: css('--blue'), fill: css('--blue-soft'), width: 1,
          paths: uPlot.paths.bars({ size: [0.8, 40] }), points: { show: false },
          value: (u, v) => fmtBTCShort(v),
        },
        { label: 'reserve', scale: 'res', stroke: css('--accent'), width: 2, value: (u, v) => fmtBTCShort(v) },
      ],
      axes: [
        timeAxis(),
        axis(fmtBTCShort, { scale: 'out', size: 78 }),
        axis(fmtBTCShort, { scale: 'res', side: 1, grid: { show: false }, size: 84 }),
      ],
    }, [x, out, reserve]);
    const first = pts[0];
    const last = pts[pts.length - 1];
    const per = data.period === 'epoch' ? 'epoch' : data.period === 'weekly' ? 'week' : 'day';
    explain.textContent =
      `Bars: coins leaving miners' outputs for outside addresses per ${per} (left axis, hops ${data.hops}); ` +
      `line: miner reserve at the end of each ${per} (right axis); ` +
      `blocks ${fmtInt(first.from_height)}–${fmtInt(last.to_height)}, ${fmtDay(first.start)} to ${fmtDay(last.end)}.`;
  }

  // ---- loading

  function period() {
    return ['1m', '3m'].includes(state.interval) ? 'daily' : 'weekly';
  }

  function settle(p) {
    return p.then((v) => ({ v }), (e) => ({ e: e instanceof APIError ? e : new APIError(-1, String(e && e.message || e)) }));
  }

  function panelError(id, explainId, err) {
    chartMessage(id, `Cannot load: ${err.message}`);
    $(id).dataset.drawn = 'error';
    if (explainId) $(explainId).textContent = '';
  }

  async function loadCharts(status) {
    const iv = encodeURIComponent(state.interval);
    const [series, epochs, pools, outflow] = await Promise.all([
      settle(getJSON(`/api/v1/minerscope/hashrate/series/${iv}?period=${period()}`)),
      settle(getJSON(`/api/v1/minerscope/epochs?interval=${iv}`)),
      settle(getJSON(`/api/v1/minerscope/pools/${iv}`)),
      settle(getJSON(`/api/v1/minerscope/outflows/${iv}?period=${period()}`)),
    ]);
    if (series.e) panelError('chart-hashrate', 'explain-hashrate', series.e);
    else renderHashrateChart(series.v);
    if (epochs.e) panelError('chart-difficulty', 'explain-difficulty', epochs.e);
    else renderEpochs(epochs.v, status.index_time);
    if (pools.e && pools.e.status === 404) {
      // Pools come from coinbases: a headers-only index has none.
      $('pools').textContent = 'No full blocks indexed: pool shares need the coinbases (run minerscope index without --headers-only).';
      $('pools').dataset.rows = 'empty';
      $('explain-pools').textContent = '';
    } else if (pools.e) {
      $('pools').textContent = `Cannot load pools: ${pools.e.message}`;
      $('pools').dataset.rows = 'error';
    } else renderPools(pools.v);
    renderOutflow(outflow.v, outflow.e);
  }

  async function loadAll(status) {
    state.loading = true;
    document.body.dataset.state = 'loading';
    try {
      renderStatus(status);
      state.status = status;
      const [hr, na, res] = await Promise.all([
        settle(getJSON('/api/v1/minerscope/hashrate?window=7d')),
        settle(getJSON('/api/v1/minerscope/next-adjustment')),
        settle(getJSON('/api/v1/minerscope/reserve')),
      ]);
      if (hr.e) setText('hashrate-current', 'unavailable').title = hr.e.message;
      else renderHashrate(hr.v);
      if (na.e) setText('blocks-remaining', 'unavailable').title = na.e.message;
      else renderNext(na.v);
      renderReserve(res.v, res.e);
      await loadCharts(status);
      state.hash = status.index_hash;
      document.body.dataset.height = String(status.index_height);
      $('updated').textContent = `Figures for block ${fmtInt(status.index_height)} (${status.index_hash}), loaded ${fmtTime(new Date().toISOString())}.`;
    } finally {
      state.loading = false;
      document.body.dataset.state = 'ready';
    }
  }

  async function poll() {
    if (!state.loading) {
      try {
        const st = await getJSON('/api/v1/minerscope/status');
        showBanner('');
        if (st.index_hash !== state.hash) {
          await loadAll(st);
        } else {
          renderStatus(st);
        }
      } catch (e) {
        if (e.status === 503) {
          showBanner(`The index has no blocks yet (${e.message}); this page updates when the first blocks arrive.`);
        } else {
          showBanner(`Cannot read the minerscope API (${e.message}); retrying every ${POLL_MS / 1000} s.`);
        }
        document.body.dataset.state = 'ready';
      }
    }
    setTimeout(poll, POLL_MS);
  }

  // reloadCharts redraws the charts for a new interval at the same tip.
  async function reloadCharts() {
    if (state.loading || !state.status) {
      state.hash = null; // the next poll reloads everything
      return;
    }
    state.loading = true;
    document.body.dataset.state = 'loading';
    try {
      await loadCharts(state.status);
    } finally {
      state.loading = false;
      document.body.dataset.state = 'ready';
    }
  }

  function pickInterval(iv, reload) {
    if (!INTERVALS.includes(iv)) return;
    state.interval = iv;
    for (const b of document.querySelectorAll('#interval-picker button')) {
      b.setAttribute('aria-pressed', String(b.dataset.interval === iv));
    }
    if (reload) reloadCharts();
  }

  function onResize() {
    for (const [id, u] of Object.entries(state.charts)) {
      const el = $(id);
      u.setSize({ width: Math.max(200, el.clientWidth), height: chartHeight() });
    }
  }

  function start() {
    const params = new URLSearchParams(location.search);
    pickInterval(params.get('interval') || state.interval, false);
    $('interval-picker').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-interval]');
      if (b) pickInterval(b.dataset.interval, true);
    });
    let pending = 0;
    window.addEventListener('resize', () => {
      clearTimeout(pending);
      pending = setTimeout(onResize, 100);
    });
    poll();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
