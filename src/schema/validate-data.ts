import { type SchemaIssue, SchemaMismatchError } from '../errors.js';
import type { StandardSchemaV1 } from './standard-schema.js';

/**
 * Runs a Standard Schema validator on `data`. Returns the validated output (schemas may
 * transform), synchronously when the validator is synchronous.
 * @throws SchemaMismatchError naming the path of every issue.
 */
export function validateData(
  schema: StandardSchemaV1,
  type: string,
  data: unknown,
  index?: number,
): unknown | Promise<unknown> {
  const result = schema['~standard'].validate(data);
  if (result instanceof Promise) return result.then((settled) => outputOf(settled, type, index));
  return outputOf(result, type, index);
}

function outputOf(result: StandardSchemaV1.Result<unknown>, type: string, index?: number): unknown {
  if (result.issues === undefined) return result.value;
  const issues: SchemaIssue[] = result.issues.map((issue) => ({
    message: issue.message,
    path: pathOf(issue),
  }));
  throw new SchemaMismatchError(type, issues, { index });
}

function pathOf(issue: StandardSchemaV1.Issue): string {
  if (!issue.path) return '';
  return issue.path.map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.');
}
