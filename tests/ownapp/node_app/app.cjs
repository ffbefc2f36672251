// A user's own Node.js LLM app: the official `openai` client behind express, instrumented only by
// telemetry.cjs. Routes: POST /api/ask {question, model}, POST /api/ask/stream (text chunks).
// A provider 429 answers 503, any other provider error 502.
//   OWNAPP_OPENAI_URL=http://127.0.0.1:PORT node --require ./telemetry.cjs app.cjs --port 8001
'use strict';

const { exporter } = require('./telemetry.cjs');
const express = require('express');
const OpenAI = require('openai');

const DEFAULT_MODEL = 'gpt-4o-mini';

// maxRetries 0: one injected provider error, one failed call (the client retries 429/5xx twice
// by default, and the instrumentation records the call once, after its retries).
const client = new OpenAI({
  baseURL: process.env.OWNAPP_OPENAI_URL,
  apiKey: 'sk-ownapp-node-test',
  maxRetries: 0,
});

function providerError(res, err) {
  if (!(err instanceof OpenAI.APIError)) throw err;
  res.status(err.status === 429 ? 503 : 502).json({ detail: `provider error: ${err.status}` });
}

function messages(body) {
  return [{ role: 'user', content: String(body.question ?? '') }];
}

const app = express();
app.use(express.json());

app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
app.get('/metrics', (req, res) => exporter.getMetricsRequestHandler(req, res));

app.post('/api/ask', async (req, res) => {
  try {
    const model = req.body.model ?? DEFAULT_MODEL;
    const r = await client.chat.completions.create({ model, messages: messages(req.body) });
    res.json({ answer: r.choices[0]?.message?.content ?? '' });
  } catch (err) {
    providerError(res, err);
  }
});

app.post('/api/ask/stream', async (req, res) => {
  let stream;
  try {
    stream = await client.chat.completions.create({
      model: req.body.model ?? DEFAULT_MODEL,
      messages: messages(req.body),
      stream: true,
      stream_options: { include_usage: true }, // token usage of a stream comes only with this
    });
  } catch (err) {
    return providerError(res, err);
  }
  res.type('text/plain');
  try {
    for await (const chunk of stream) res.write(chunk.choices[0]?.delta?.content ?? '');
  } catch {
    res.write('[provider error]');
  }
  res.end();
});

const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node --require ./telemetry.cjs app.cjs --port N');
  process.exit(2);
}
app.listen(port, '127.0.0.1', (err) => {
  if (err) {
    console.error(`cannot listen on 127.0.0.1:${port}: ${err.message}`);
    process.exit(1);
  }
});
