// Entry point of `busline/redis`: the Redis adapters. `redis` is an optional peer dependency.
export {};
