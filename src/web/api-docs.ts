/** A readable page of the OpenAPI document (rendered here: no script, no CDN). */
import { html } from './html.js';
import { type PageContext, page, table } from './layout.js';

interface Operation {
  summary?: string;
  description?: string;
  parameters?: Array<{
    name: string;
    in: string;
    required?: boolean;
    description?: string;
    schema?: { type?: string };
  }>;
  requestBody?: unknown;
}

export function apiDocsPage(
  ctx: PageContext,
  spec: {
    info: { title: string; description?: string; version: string };
    paths: Record<string, Record<string, Operation>>;
  },
): string {
  const ops = Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );
  const body = html`<p>${spec.info.description ?? ''}</p>
<p>The machine-readable document: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1, version ${spec.info.version}).</p>
${table(
  'Endpoints',
  ['Method', 'Path', 'What it does'],
  ops.map(
    (o) =>
      html`<tr><td>${o.method}</td><td><a href="#${o.method}-${o.path}"><code>${o.path}</code></a></td><td>${o.op.summary ?? ''}</td></tr>`,
  ),
)}
${ops.map(
  (
    o,
  ) => html`<section aria-labelledby="${o.method}-${o.path}"><h2 id="${o.method}-${o.path}"><code>${o.method} ${o.path}</code></h2>
<p>${o.op.summary ?? ''}</p>${o.op.description ? html`<p>${o.op.description}</p>` : ''}
${
  o.op.parameters && o.op.parameters.length > 0
    ? table(
        `Parameters of ${o.method} ${o.path}`,
        ['Name', 'In', 'Type', 'Required', 'Meaning'],
        o.op.parameters.map(
          (p) =>
            html`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td>${p.schema?.type ?? ''}</td><td>${p.required ? 'yes' : 'no'}</td><td>${p.description ?? ''}</td></tr>`,
        ),
      )
    : ''
}
${o.op.requestBody ? html`<details><summary>Request body</summary><pre>${JSON.stringify(o.op.requestBody, null, 2)}</pre></details>` : ''}
</section>`,
)}`;
  return page({ title: 'Operator API', path: '/api/docs', ctx, body });
}
