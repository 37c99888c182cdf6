/** What `bus.publish` resolves with, one per event of `bus.publishBatch`. */
export interface PublishResult {
  id: string;
  /** `delivered`: accepted and dispatched (even to no subscriber); the others: not published. */
  status: 'delivered' | 'duplicate' | 'rate_limited';
  /** Resume point in the store; absent without a store. */
  cursor?: string;
  /** User subscriptions the event reached after their `stream` and `filter` (the bus's own watchers not counted). */
  deliveredTo: number;
}
