// report.html's account of trust, per session: the model usage the session gateway observed beside what Claude
// Code reported, each difference flagged (usage.ts); and the record's provenance: which of its fields and files
// the host observed and which the session reported (metadata.json `provenance`), what the session's wrapper said
// of itself, and the files it handed back that the host refused. README, "Sharing safely".
import type { SessionMetadata } from '../../session/session-record.ts';
import { type ComparedField, GATEWAY_EVENT, type UsageComparison, usd } from '../analysis/usage.ts';
import { esc } from './html.ts';

const int = (n: number) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** A card beside the session's figures: equal, or how many figures differ. */
export function usageCard(u: UsageComparison): string {
  const value = u.equal ? 'equal' : `${u.differences.length} difference(s)`;
  return `<div class="card${u.equal ? '' : ' alert'}"><div class="label">Usage: observed vs reported</div><div class="value" data-key="usage">${esc(value)}</div></div>`;
}

const ROWS: {
  field: ComparedField;
  label: string;
  of: (x: Pick<UsageComparison['reported'], 'modelCalls' | 'tokens' | 'costUsd'>) => number;
}[] = [
  { field: 'modelCalls', label: 'Model calls', of: (x) => x.modelCalls },
  { field: 'tokens.input', label: 'Input tokens', of: (x) => x.tokens.input },
  { field: 'tokens.output', label: 'Output tokens', of: (x) => x.tokens.output },
  { field: 'tokens.cacheRead', label: 'Cache read tokens', of: (x) => x.tokens.cacheRead },
  { field: 'tokens.cacheCreation', label: 'Cache creation tokens', of: (x) => x.tokens.cacheCreation },
  { field: 'costUsd', label: 'Cost', of: (x) => x.costUsd },
];

/** Observed and reported side by side; each differing figure in red, and the differences in words above. */
export function usageSection(u: UsageComparison): string {
  const differing = new Set(u.differences.map((d) => d.field));
  const fmt = (field: ComparedField, n: number) => (field === 'costUsd' ? usd(n) : int(n));
  const rows = ROWS.map(({ field, label, of }) => {
    const diff = differing.has(field);
    return `<tr class="${diff ? 'diff' : 'same'}" data-field="${field}"><th>${label}</th><td data-key="usage.observed.${field}">${esc(fmt(field, of(u.observed)))}</td><td data-key="usage.reported.${field}">${esc(fmt(field, of(u.reported)))}</td><td>${diff ? '≠ differs' : '='}</td></tr>`;
  }).join('');
  const o = u.observed;
  const failed = `<tr><th>Failed requests / API errors (shown, not compared)</th><td>${int(o.failed)} of ${int(o.requests)} request(s)${o.otherRequests ? `; ${int(o.otherRequests)} count_tokens` : ''}</td><td>${int(u.reported.errors)}</td><td></td></tr>`;
  const verdict = u.equal
    ? `<p class="ok" data-key="usage.equal">Observed and reported usage agree on every figure compared.</p>`
    : `<div class="alert" data-key="usage.differences"><strong>Observed and reported usage differ</strong> (the gateway's record is outside the session's reach; Claude Code's telemetry is the session's own word):<ul>${u.differences.map((d) => `<li>${esc(d.text)}</li>`).join('')}</ul></div>`;
  const notes = u.notes.length
    ? `<ul class="note" data-key="usage.notes">${u.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`
    : '';
  return `${verdict}
<table class="wide" data-key="usage.table"><caption>Model usage: observed by the session gateway (${esc(GATEWAY_EVENT)} events) beside reported by Claude Code (api_request events)</caption><tr><th></th><th>Observed</th><th>Reported</th><th></th></tr>${rows}${failed}</table>
${notes}`;
}

/** At most this many refused files are listed (a session can hand back a thousand). */
const MAX_REFUSED_SHOWN = 50;
const cut = (s: string, n = 200) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Which fields and files of the record the host observed and which the session reported. */
export function provenanceSection(m: SessionMetadata | null | undefined): string {
  const caption = '<caption>The record: what the host observed, what the session reported</caption>';
  const telemetryRow = `<tr><th>Telemetry</th><td class="left">observed: the session gateway's ${esc(GATEWAY_EVENT)} events; reported: Claude Code's events and metrics (telemetry.source=reported)</td></tr>`;
  if (!m)
    return `<table class="wide" data-key="provenance">${caption}<tr><th>Record</th><td class="left">not recorded: no metadata.json for this session in the archive</td></tr>${telemetryRow}</table>`;
  const list = (xs: string[]) =>
    xs.length ? xs.map((x) => `<code>${esc(cut(x))}</code>`).join(', ') : 'none';
  const p = m.provenance;
  const rows = p
    ? `<tr><th>Observed by the host</th><td class="left" data-key="provenance.observed">${list(p.observed)}</td></tr><tr><th>Reported by the session</th><td class="left" data-key="provenance.reported">${list(p.reported)}</td></tr>`
    : `<tr><th>Observed / reported</th><td class="left" data-key="provenance.observed">not recorded (a record written before the host kept provenance: every field is as the session's wrapper wrote it)</td></tr>`;
  const r = m.reported;
  const said = r
    ? `<tr><th>The session's wrapper said</th><td class="left" data-key="provenance.said">status ${esc(r.status ?? '–')}, exit ${esc(r.exitCode ?? '–')}${r.limit ? `, limit ${esc(r.limit.kind)}: ${esc(cut(r.limit.description))}` : ''}</td></tr>`
    : '';
  const refused = r?.refused ?? [];
  const refusedRow = r
    ? `<tr${refused.length ? ' class="diff"' : ''}><th>Refused from the session's spool</th><td class="left" data-key="provenance.refused">${
        refused.length
          ? `${refused.length} file(s) handed back and not taken:<ul>${refused
              .slice(0, MAX_REFUSED_SHOWN)
              .map((x) => `<li><code>${esc(cut(x))}</code></li>`)
              .join(
                '',
              )}</ul>${refused.length > MAX_REFUSED_SHOWN ? `and ${refused.length - MAX_REFUSED_SHOWN} more (metadata.json lists them all)` : ''}`
          : 'none'
      }</td></tr>`
    : '';
  const c = m.container;
  const seen = c
    ? `<tr><th>The host saw</th><td class="left" data-key="provenance.container">exit ${esc(c.exitCode ?? '–')}${c.oomKilled ? ', killed out of memory' : ''}${c.timedOut ? ', ended by the host’s wall clock' : ''}${m.limit ? `, limit ${esc(m.limit.kind)} (${esc(m.limit.source ?? 'source not recorded')})` : ''}; session.log ${int(c.logBytes)} bytes${c.logTruncated ? ' (truncated at its bound)' : ''}</td></tr>`
    : '';
  return `<table class="wide" data-key="provenance">${caption}${rows}${seen}${said}${refusedRow}${telemetryRow}</table>`;
}
