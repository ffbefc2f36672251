// Loaded before the app (node --require ./telemetry.cjs app.cjs), as the OpenTelemetry JS docs
// set an app up: instrumentations must patch `http`, `express` and `openai` before the app
// requires them. Only official OpenTelemetry packages; no metric is written by hand.
'use strict';

const { context, metrics } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express');
const { OpenAIInstrumentation } = require('@opentelemetry/instrumentation-openai');
const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus');
const { MeterProvider } = require('@opentelemetry/sdk-metrics');
const { detectResources, envDetector, defaultResource } = require('@opentelemetry/resources');

// The HTTP instrumentation hands the matched express route to its metric through the active
// context: without a context manager `http.route` is never recorded.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

// The app serves /metrics itself (exporter.getMetricsRequestHandler): no second port.
const exporter = new PrometheusExporter({ preventServerStart: true });
const resource = defaultResource().merge(detectResources({ detectors: [envDetector] }));
metrics.setGlobalMeterProvider(new MeterProvider({ resource, readers: [exporter] }));

registerInstrumentations({
  instrumentations: [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => ['/metrics', '/healthz'].includes(req.url),
    }),
    new ExpressInstrumentation(),
    new OpenAIInstrumentation(),
  ],
});

module.exports = { exporter };
