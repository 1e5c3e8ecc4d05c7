/**
 * Express / Connect integration. Two ways to lay it out:
 *
 *     // Cheapest: no router layer added.
 *     const server = http.createServer(app);
 *     traceServer(zipkin, server);                                            // every request: rewrite … log
 *     app.use('/orders', createProxyMiddleware({
 *       target, plugins: [zipkinProxyPlugin(zipkin, { route, service })] })); // access, balancer tries
 *
 *     // Middleware style (each middleware is a router layer, a few µs per request):
 *     app.use(zipkinMiddleware(zipkin));                                      // every request: rewrite … log
 *     app.use('/orders', zipkinRoute(zipkin, { route, service }),             // access
 *       createProxyMiddleware({ target, plugins: [zipkinProxyPlugin(zipkin)] }));  // balancer tries
 *
 * The request start (Kong's request start and rewrite phase) must come before any other
 * code so that requests no route handles (Express's 404) are traced too, like Kong's router
 * 404s. The access phase of a matched route sets the route / service identity, decides
 * sampling and writes the propagation headers into `req.headers`, from which the proxy
 * builds the upstream request: `zipkinRoute` does it where it is mounted, the
 * http-proxy-middleware plugin does it when the proxy starts if no `zipkinRoute` ran.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { ZipkinPlugin } from '../plugin';
import type { RouteIdentity } from '../trace/request-inputs';
import { traceHttp } from './node-http';
import { reportTracingFailure } from '../logger';

/** A Connect-style `next`. */
export type NextFunction = (err?: unknown) => void;

/** A Connect / Express middleware (Express accepts it as a `RequestHandler`). */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void;

/** Start tracing every request (mount it before everything else). */
export function zipkinMiddleware(plugin: ZipkinPlugin): Middleware {
  return function zipkinRewrite(req, res, next) {
    try {
      traceHttp(plugin, req, res);
    } catch (err) {
      reportTracingFailure(plugin.logger, err);
    }
    next();
  };
}

export interface ZipkinRouteOptions {
  /**
   * Run what follows this middleware (the proxy) with OTel tracing suppressed, so an
   * OTel http instrumentation neither adds its own CLIENT span for the upstream call nor
   * overwrites the propagation headers with the global propagator's (default true).
   * Needs a registered OTel context manager to have any effect, as the instrumentation does.
   */
  suppressInstrumentation?: boolean;
}

/**
 * Kong's access phase for a matched route. `identity` gives the Kong route and service
 * (`kong.route`, `kong.route_name`, `kong.service`, `kong.service_name`, and the remote
 * service name of the proxy and balancer spans). A route-scoped plugin takes the request
 * over from a global one, as Kong's plugin precedence does.
 */
export function zipkinRoute(
  plugin: ZipkinPlugin,
  identity?: RouteIdentity | null,
  options: ZipkinRouteOptions = {},
): Middleware {
  const suppress = options.suppressInstrumentation !== false;
  return function zipkinAccess(req, res, next) {
    try {
      traceHttp(plugin, req, res).access(identity, req.headers, true);
    } catch (err) {
      reportTracingFailure(plugin.logger, err);
    }
    if (suppress) {
      const active = context.active();
      // Without a context manager the active context is always ROOT_CONTEXT: no allocation then.
      context.with(active === ROOT_CONTEXT ? SUPPRESSED_ROOT : suppressTracing(active), next);
    } else {
      next();
    }
  };
}

const SUPPRESSED_ROOT = suppressTracing(ROOT_CONTEXT);
