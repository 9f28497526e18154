export * from './ast.js';
export * from './collect.js';
export { ODataSyntaxError } from './errors.js';
export { likePattern } from './like.js';
export * from './parser.js';
export * from './serialize.js';
