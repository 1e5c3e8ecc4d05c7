/** Integrations driving Kong's phases from Node servers. */
export { zipkinMiddleware, zipkinRoute, type Middleware, type NextFunction, type ZipkinRouteOptions } from './express';
export { zipkinProxyPlugin } from './http-proxy-middleware';
export { traceHttp, traceServer, trackUpstreamRequest, trackUpstreamSocket } from './node-http';
export { traceConnection, proxyTcp, type TcpProxyOptions } from './node-net';
export { hookResponse } from './response-hooks';
export { targetFromUrl } from './balancer-tries';
