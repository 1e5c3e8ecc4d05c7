/** An endpoint that cannot be used; `message` is the reason shown after `config.http_endpoint: `. */
export class EndpointError extends Error {}
