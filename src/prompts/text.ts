import { z } from 'zod';

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A prompt's answer: one user message with its text */
export const user = (text: string) => ({
  messages: [{ role: 'user' as const, content: { type: 'text' as const, text } }],
});

/**
 * A prompt's required text argument, said by name where it is left out: the SDK checks prompts' arguments
 * itself and answered zod's own "Invalid input: expected string, received undefined at account" to the user
 * who picked the prompt in the client.
 */
export const needed = (name: string, description: string) =>
  z
    .string({
      // (a value other than text is refused before, with the protocol's own check of prompts/get)
      error: () => `${name} is required: ${description.charAt(0).toLowerCase()}${description.slice(1)}`,
    })
    .describe(description);
