#!/usr/bin/env node
// Parse LogQL / TraceQL / PromQL with the grammars Grafana's own query editors use
// (@grafana/lezer-logql, @grafana/lezer-traceql, @prometheus-io/lezer-promql) and report, per
// query, the syntax-error nodes plus the label / attribute names it uses, so tests can hold the
// names to the telemetry contract.
//
//   echo '[{"id": "x", "lang": "logql", "query": "{service_name=\"rag-api\"}"}]' | node check.mjs
//
// Output (stdout, JSON): [{id, lang, errors: [{from, to, near}], labels, attributes, lineFilters}]
// Exit status: 0 when no query has an error node, 1 when some query does, 2 on bad input.
// Grafana variables ($__auto, $model …) must be substituted before parsing, as Grafana does.
import { parser as logql } from '@grafana/lezer-logql';
import { parser as traceql } from '@grafana/lezer-traceql';
import { parser as promql } from '@prometheus-io/lezer-promql';
import { readFileSync } from 'node:fs';

const PARSERS = { logql, traceql, promql };

function childNamed(node, name) {
  for (let c = node.firstChild; c; c = c.nextSibling) if (c.type.name === name) return c;
  return null;
}

function analyse(lang, query) {
  const tree = PARSERS[lang].parse(query);
  const errors = [];
  const labels = new Set();
  const attributes = new Set();
  const lineFilters = new Set();
  tree.iterate({
    enter(ref) {
      const node = ref.node;
      const name = node.type.name;
      if (node.type.isError) {
        errors.push({ from: node.from, to: node.to, near: query.slice(Math.max(0, node.from - 15), node.to + 15) });
        return;
      }
      if (lang === 'logql') {
        // {name="v"} selectors, `| name="v"` label filters, `by (name)` groupings.
        if (name === 'Matcher') {
          const id = childNamed(node, 'Identifier');
          if (id) labels.add(query.slice(id.from, id.to));
        } else if (name === 'Labels' || name === 'Grouping') {
          for (let c = node.firstChild; c; c = c.nextSibling)
            if (c.type.name === 'Identifier') labels.add(query.slice(c.from, c.to));
        } else if (name === 'LabelFilter' || name === 'NumberFilter') {
          const id = childNamed(node, 'Identifier');
          if (id) labels.add(query.slice(id.from, id.to));
        } else if (name === 'LineFilter') {
          // |= "text": the OTLP log body, i.e. rag-api's event name.
          const str = childNamed(node, 'String');
          if (str) lineFilters.add(JSON.parse(query.slice(str.from, str.to)));
        }
      } else if (lang === 'traceql') {
        if (name === 'AttributeField') attributes.add(query.slice(node.from, node.to));
        if (name === 'IntrinsicField') attributes.add(query.slice(node.from, node.to));
      } else if (lang === 'promql') {
        if (name === 'LabelName') labels.add(query.slice(node.from, node.to));
      }
    },
  });
  return {
    errors,
    labels: [...labels].sort(),
    attributes: [...attributes].sort(),
    lineFilters: [...lineFilters].sort(),
  };
}

let items;
try {
  items = JSON.parse(readFileSync(0, 'utf8'));
  if (!Array.isArray(items)) throw new Error('expected a JSON array of {id, lang, query}');
  for (const it of items) {
    if (!(it.lang in PARSERS)) throw new Error(`unknown lang ${JSON.stringify(it.lang)} (logql, traceql, promql)`);
    if (typeof it.query !== 'string') throw new Error(`query of ${JSON.stringify(it.id)} is not a string`);
  }
} catch (err) {
  process.stderr.write(`check.mjs: bad input: ${err.message}\n`);
  process.exit(2);
}

const results = items.map((it) => ({ id: it.id, lang: it.lang, query: it.query, ...analyse(it.lang, it.query) }));
process.stdout.write(JSON.stringify(results, null, 1) + '\n');
// exitCode, not exit(): exit() cuts off a piped stdout after its first 64 KiB.
process.exitCode = results.some((r) => r.errors.length) ? 1 : 0;
