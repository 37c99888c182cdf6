/**
 * The attributes every span and measurement of one kind of operation on one event type (and
 * group) shares, made once: the ones the conventions want at span creation, for samplers
 * (system, operation, destination), which are also the metrics' dimensions.
 */
import type { Attributes } from '@opentelemetry/api';
import { AttributeSets } from './attribute-sets.js';
import { ATTR, OPERATION, SYSTEM } from './semconv.js';

/** Joins an event type and a group into one key: neither may hold a control character. */
const SEPARATOR = '\u0000';

type Operation = (typeof OPERATION)[keyof typeof OPERATION];

function base(operation: Operation, type: string | undefined): Attributes {
  const set: Attributes = {
    [ATTR.system]: SYSTEM,
    [ATTR.operationName]: operation.name,
    [ATTR.operationType]: operation.type,
  };
  if (type !== undefined) set[ATTR.destination] = type;
  return set;
}

export class MessagingAttributes {
  readonly #send = new AttributeSets((type) => base(OPERATION.send, type));
  readonly #create = new AttributeSets((type) => base(OPERATION.create, type));
  readonly #process = new AttributeSets((key) => {
    const [type, group] = key.split(SEPARATOR) as [string, string | undefined];
    const set = base(OPERATION.process, type);
    if (group !== undefined) set[ATTR.group] = group;
    return set;
  });
  /** A batch of several types has no destination. */
  readonly sendMixed: Attributes = Object.freeze(base(OPERATION.send, undefined));

  send(type: string): Attributes {
    return this.#send.get(type);
  }

  create(type: string): Attributes {
    return this.#create.get(type);
  }

  process(type: string, group: string | undefined): Attributes {
    return this.#process.get(group === undefined ? type : type + SEPARATOR + group);
  }
}
