// USD per million tokens, input / output. Unknown models (and local ones) cost 0.
const PRICES: Record<string, [number, number]> = {
  'gpt-4o-mini': [0.15, 0.6],
  'gpt-4o': [2.5, 10],
  'gpt-4.1': [2, 8],
  'gpt-4.1-mini': [0.4, 1.6],
  'gpt-4.1-nano': [0.1, 0.4],
};

export function costUsd(provider: string, model: string, promptTokens: number, completionTokens: number): number {
  if (provider !== 'openai') return 0;
  const price = PRICES[model] ?? PRICES[model.replace(/-\d{4}-\d{2}-\d{2}$/, '')];
  if (!price) return 0;
  return (promptTokens * price[0] + completionTokens * price[1]) / 1_000_000;
}
