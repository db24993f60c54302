/**
 * circuitToSvg and the encodings: well-formed XML (checked by resvg's strict XML parser and by a
 * tag-nesting walk here), one element per shown node and edge, labels from annotations, text
 * escaped; colours, glyphs, shapes and input shares against values worked out by hand.
 */
import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import { circuitToSvg, escapeXml, wrapLabel } from '../../src-main/view/svg';
import { filterCircuit } from '../../src-main/view/filter';
import {
  divergingColor,
  effectGlyph,
  effectScale,
  inputShares,
  nodeShape,
  NEGATIVE_COLOR,
  NEUTRAL_COLOR,
  POSITIVE_COLOR,
  textColorOn,
} from '../../src-main/view/encodings';
import { nodeLabel } from '../../src-main/view/names';
import { randomCircuit } from '../helpers/view-circuits';

/** Walks the tags: every opened element is closed in order; returns the start tags seen. */
function walkTags(xml: string): string[] {
  const stack: string[] = [];
  const starts: string[] = [];
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(xml))) {
    const between = xml.slice(last, m.index);
    if (between.includes('<') || between.includes('>')) throw new Error(`stray markup near ${JSON.stringify(between.slice(0, 60))}`);
    if (/&(?!amp;|lt;|gt;|quot;|apos;)/.test(between)) throw new Error(`unescaped & in ${JSON.stringify(between.slice(0, 60))}`);
    last = re.lastIndex;
    const [, close, name, , selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      starts.push(m[0]);
      if (!selfClose) stack.push(name);
    }
  }
  if (xml.slice(last).trim() !== '') throw new Error('text after the root element');
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return starts;
}

const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

describe('circuitToSvg', () => {
  const c = randomCircuit({ seed: 21, nodes: 120, tokens: ['The', ' keys', ' <to>', ' the', ' cabinet & co'] });
  const first = c.nodes.find((n) => n.feature !== 'error' && !n.id.startsWith('embed'))!;
  const key = first.id.split('@')[0];
  const annotations = new Map([[key, 'plural <subject> & "verbs"']]);
  const opts = { annotations, nodeThreshold: 0.4, edgeThreshold: 0.1 };
  const svg = circuitToSvg(c, opts);
  const vis = filterCircuit(c, opts);

  it('is well-formed XML (resvg parses it; tags nest)', () => {
    expect(() => new Resvg(svg)).not.toThrow();
    expect(() => walkTags(svg)).not.toThrow();
    expect(() => new Resvg('<svg xmlns="http://www.w3.org/2000/svg"><g></svg>')).toThrow(); // the check can fail
  });

  it('draws one node element per shown node and one path per shown edge', () => {
    const tags = walkTags(svg);
    const ids = tags.filter((t) => t.startsWith('<g class="node"')).map((t) => unescape(/data-id="([^"]*)"/.exec(t)![1]));
    expect(ids.sort()).toEqual([...vis.nodes].sort());
    expect(vis.nodes.size).toBeLessThan(c.nodes.length); // the threshold hides some
    expect(tags.filter((t) => t.startsWith('<path class="edge"'))).toHaveLength(vis.edges.size);
    expect(vis.edges.size).toBeGreaterThan(0);
    expect(tags.filter((t) => t.startsWith('<g class="metric"'))).toHaveLength(1);
  });

  it('labels nodes with their annotation, else their id; escapes the text', () => {
    const pinnedSvg = circuitToSvg(c, { ...opts, nodeThreshold: 0 });
    expect(pinnedSvg).toContain('plural &lt;subject&gt; &amp;');
    const other = c.nodes.find((n) => n.feature !== 'error' && n.id.split('@')[0] !== key && Math.abs(n.effect) > 0.4)!;
    expect(svg).toContain(`>${other.id.split('@')[0]}</text>`);
    // Tokens are written under their columns, escaped.
    expect(svg).toContain('>&lt;to&gt;</text>');
    expect(svg).toContain('>cabinet &amp; co</text>');
  });

  it('says in the header how much the thresholds hide', () => {
    const hiddenN = c.nodes.length - vis.nodes.size;
    expect(svg).toContain(`${vis.nodes.size} of ${c.nodes.length} nodes (|effect| &gt; 0.4)`);
    expect(svg).toContain(`hidden: ${hiddenN} nodes, ${vis.counts.edges.total - vis.counts.edges.visible} edges`);
  });

  it('scales to a requested width, keeping the aspect ratio', () => {
    const small = circuitToSvg(c, { ...opts, width: 800 });
    const [, w, h, vw, vh] = /width="([\d.]+)" height="([\d.]+)" viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(small)!.map(Number);
    expect(w).toBe(800);
    expect(h / w).toBeCloseTo(vh / vw, 2);
  });

  it('draws error nodes as triangles and summed circuits without a token strip', () => {
    const s = randomCircuit({ seed: 3, nodes: 40, tokens: null });
    const out = circuitToSvg(s, { nodeThreshold: 0, edgeThreshold: 0 });
    const errors = s.nodes.filter((n) => n.feature === 'error').length;
    expect(errors).toBeGreaterThan(0);
    // One three-cornered path per error node (the legend's key has no stroke-width).
    expect(out.match(/<path d="M[\d.,]+ L[\d.,]+ L[\d.,]+ Z" fill="#[0-9a-f]{6}" stroke="#333" stroke-width="1"\/>/g)!.length).toBe(errors);
    expect(out).not.toContain('>pos 0<');
  });
});

describe('encodings', () => {
  it('diverging scale: white at 0, the ramp ends at ±1, clamped beyond', () => {
    expect(divergingColor(0)).toBe(NEUTRAL_COLOR);
    expect(divergingColor(1)).toBe(POSITIVE_COLOR);
    expect(divergingColor(-1)).toBe(NEGATIVE_COLOR);
    expect(divergingColor(7)).toBe(POSITIVE_COLOR);
    // Halfway between stops 2 (#92c5de) and 3 (#4393c3) at t = 0.625: (0x92+0x43)/2 = 106.5 → 0x6b.
    expect(divergingColor(0.625)).toBe('#6bacd1');
    // Darker with |t| on both sides (lightness encodes magnitude).
    const lum = (h: string) => [1, 3, 5].reduce((s, i) => s + parseInt(h.slice(i, i + 2), 16), 0);
    for (const sign of [1, -1]) for (let t = 0.1; t <= 1; t += 0.1) expect(lum(divergingColor(sign * t))).toBeLessThan(lum(divergingColor(sign * (t - 0.1))));
  });

  it('scales by the largest |effect| of all nodes, and encodes the sign as a glyph too', () => {
    const s = effectScale([0.5, -2, 1]);
    expect(s.maxAbs).toBe(2);
    expect(s.color(-2)).toBe(NEGATIVE_COLOR);
    expect(s.color(1)).toBe(divergingColor(0.5));
    expect([effectGlyph(0.1), effectGlyph(-3), effectGlyph(0)]).toEqual(['+', '−', '0']);
  });

  it('picks readable text: white on the darkest fills, dark on light ones', () => {
    expect(textColorOn(POSITIVE_COLOR)).toBe('#ffffff');
    expect(textColorOn(NEGATIVE_COLOR)).toBe('#ffffff');
    expect(textColorOn(NEUTRAL_COLOR)).toBe('#1a1a1a');
    expect(textColorOn('#fdb863')).toBe('#1a1a1a');
  });

  it('shapes: box for features, triangle for SAE errors, diamond for y', () => {
    expect(nodeShape({ id: 'mlp_0/3', feature: 3 })).toBe('box');
    expect(nodeShape({ id: 'mlp_0/error', feature: 'error' })).toBe('triangle');
    expect(nodeShape({ id: 'y' })).toBe('diamond');
    expect(nodeLabel({ id: 'mlp_0/error@2', submodule: 'mlp_0', feature: 'error' })).toBe('mlp_0/ε');
  });

  it("input shares: each edge's signed share of its target's total |input|", () => {
    const sh = inputShares([
      { source: 'a', target: 't', weight: 3 },
      { source: 'b', target: 't', weight: -1 },
      { source: 'c', target: 'u', weight: -2 },
    ]);
    expect(sh.get('a->t')).toBe(0.75);
    expect(sh.get('b->t')).toBe(-0.25);
    expect(sh.get('c->u')).toBe(-1);
  });
});

describe('wrapLabel and escapeXml', () => {
  it('wraps on words, breaks ids after the slash, ends a cut label with …', () => {
    expect(wrapLabel('promotes plural verb forms', 16)).toEqual(['promotes plural', 'verb forms']);
    expect(wrapLabel('resid_2/31098', 10)).toEqual(['resid_2/', '31098']);
    expect(wrapLabel('start of plural NP, boosts plural verbs', 16)).toEqual(['start of plural', 'NP, boosts…']);
    expect(wrapLabel('short', 16)).toEqual(['short']);
  });

  it('escapes markup and drops characters XML forbids', () => {
    expect(escapeXml(`a<b>&"c'\u0001`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
  });
});
