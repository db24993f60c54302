/**
 * One context's tokens shaded by the feature's value at each (blue, stronger = darker), the
 * peak token outlined and bold so it reads without colour. Shared by the Inspector's top
 * contexts and the SHIFT judging list.
 */
import React from 'react';
import { fmtNum } from '../util/format';

export function ContextTokens({ tokens, values, position, show = (t) => t }: { tokens: string[]; values: number[]; position: number; show?: (t: string) => string }): React.JSX.Element {
  const peak = Math.max(1e-9, ...values.map(Math.abs));
  return (
    <span className="ctx-text">
      {tokens.map((t, j) => {
        const a = Math.abs(values[j] ?? 0) / peak;
        return (
          <span key={j} className={`tok${j === position ? ' peak' : ''}`} style={a > 0 ? { background: `rgba(33, 102, 172, ${(0.12 + 0.6 * a).toFixed(2)})`, color: a > 0.7 ? '#fff' : undefined } : undefined} title={`${JSON.stringify(t)}: ${fmtNum(values[j] ?? 0)}`}>
            {show(t)}
          </span>
        );
      })}
    </span>
  );
}
