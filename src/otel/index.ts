// Entry point of `busline/otel`: OpenTelemetry traces and metrics for a bus, through its
// `telemetry` option. Needs `@opentelemetry/api` (an optional peer dependency of busline).

export { type OpenTelemetryOptions, openTelemetry } from './open-telemetry.js';
