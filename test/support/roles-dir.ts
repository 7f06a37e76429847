// A copy of the shipped roles/ in a temp folder, to add or change role files for one test; and role files tests write.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function copyRoles(): { dir: string; edit(file: string, fn: (text: string) => string): void; add(file: string, text: string): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'rolecall-roles-'));
  cpSync('roles', dir, { recursive: true });
  return {
    dir,
    edit: (file, fn) => writeFileSync(path.join(dir, file), fn(readFileSync(path.join(dir, file), 'utf8'))),
    add: (file, text) => writeFileSync(path.join(dir, file), text),
  };
}

/** A small valid role file (role_id designer: one required output, an Ollama model), with an `approval:` block of
 *  these (indented) lines when given. */
export const designerRoleFile = (approval?: string) => `role_id: designer
persona:
  display_name: Designer
  icon_emoji: ":art:"
  style: Visual and concise.
capabilities: [wireframes]
instructions: Produce wireframe descriptions for each user story.
constraints:
  required_outputs:
    - name: wireframes
      description: One wireframe per story.
      schema: { type: array, items: { type: string } }
${approval === undefined ? '' : `approval:\n${approval}\n`}llm_config:
  provider: ollama
  model: llama3.1
`;

export const DESIGNER_ROLE = `role_id: ux_designer
persona:
  display_name: UX Designer
  icon_emoji: ":art:"
  style: Visual and concise.
capabilities: [wireframes, user_flows]
instructions: Describe the screens and the flow between them for each user story, with the states of each screen.
constraints:
  forbidden_topics:
    - id: implementation_code
      description: writing implementation code
      patterns: ['\`\`\`']
  required_outputs:
    - name: screens
      description: Each screen with its purpose and states.
      schema:
        type: array
        minItems: 1
        items:
          type: object
          required: [name, purpose, states]
          properties:
            name: { type: string }
            purpose: { type: string }
            states: { type: array, items: { type: string } }
tools:
  allow: [validate_output]
approval:
  policy: any
llm_config:
  provider: openai
  model: gpt-4o-mini
`;
