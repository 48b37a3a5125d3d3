"""The HTTP edge: API Gateway events in and out, who may call, the routes, /status."""
