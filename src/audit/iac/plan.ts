// system-upgrade-controller Plans (upgrade.cattle.io/v1): the K3s upgrade a Plan rolls out must
// be a `version:`, not a `channel:` URL that resolves to whatever is newest when polled.
import type { Node } from 'yaml';
import type { Finding } from '../../model/inventory.ts';
import { PLAN_CHANNEL } from '../../model/rules/iac.ts';
import { ruleFinding } from '../../model/rules/rule.ts';
import type { IacFile, IacOptions } from './context.ts';
import { checkImage } from './images.ts';
import { get, placeOfNode, str } from './yaml-doc.ts';

export function checkPlan(file: IacFile, opts: IacOptions, root: Node | null): Finding[] {
  const spec = get(root, 'spec');
  const name = str(get(get(root, 'metadata'), 'name')) ?? '?';
  const out: Finding[] = [];
  const version = str(get(spec, 'version'));
  const channelNode = get(spec, 'channel');
  if ((version === undefined || version === '') && channelNode !== undefined) {
    const at = placeOfNode(file, channelNode);
    out.push(
      ruleFinding(PLAN_CHANNEL, `Plan ${name} upgrades to whatever ${str(channelNode) ?? 'the channel'} resolves to`, {
        file: file.path,
        line: at.line,
        column: at.column,
      }),
    );
  }
  // The upgrade image's tag is set from the version by the controller; a digest there is the user's own pin.
  for (const key of ['prepare', 'upgrade']) {
    const image = get(get(spec, key), 'image');
    const text = str(image);
    if (text?.includes('@')) {
      out.push(...checkImage(text, placeOfNode(file, image), file.path, opts.policy, `Plan ${name} ${key} image`));
    } else if (text !== undefined && opts.policy) {
      out.push(
        ...checkImage(text, placeOfNode(file, image), file.path, opts.policy, `Plan ${name} ${key} image`).filter(
          (f) => f.id !== 'K3SG-IAC-IMAGE-TAG',
        ),
      );
    }
  }
  return out;
}
