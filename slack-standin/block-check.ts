import { SLACK_LIMITS as L } from '../bot/render/slack-limits.js';

/**
 * Checks a message's blocks the way Slack does and returns Slack-style error strings
 * (`"must be less than 51 items [json-pointer:/blocks]"`); an empty list means Slack would accept them.
 * Only the block types the bot renders are checked in depth; others pass through as Slack's would
 * for valid input. Modals pass `maxBlocks` 100 and `at` `/view/blocks`.
 */
export function checkBlocks(blocks: unknown, maxBlocks: number = L.blocksPerMessage, at = '/blocks'): string[] {
  if (!Array.isArray(blocks)) return [`must be an array [json-pointer:${at}]`];
  const errors: string[] = [];
  if (blocks.length > maxBlocks) errors.push(`must be less than ${maxBlocks + 1} items [json-pointer:${at}]`);
  blocks.forEach((block, i) => checkBlock(block, `${at}/${i}`, errors));
  return errors;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function maxLen(value: unknown, max: number, at: string, errors: string[], min = 0): void {
  if (typeof value !== 'string') {
    errors.push(`must be a string [json-pointer:${at}]`);
  } else if (value.length > max) {
    errors.push(`must be less than ${max + 1} characters [json-pointer:${at}]`);
  } else if (value.length < min) {
    errors.push(`must be more than ${min - 1} characters [json-pointer:${at}]`);
  }
}

function textObject(t: unknown, max: number, at: string, errors: string[]): void {
  if (!isObj(t)) return void errors.push(`must provide an object [json-pointer:${at}]`);
  maxLen(t.text, max, `${at}/text`, errors, 1);
}

function checkBlock(block: unknown, at: string, errors: string[]): void {
  if (!isObj(block) || typeof block.type !== 'string') return void errors.push(`must provide an object with a type [json-pointer:${at}]`);
  if (block.block_id !== undefined) maxLen(block.block_id, L.blockId, `${at}/block_id`, errors);
  switch (block.type) {
    case 'section':
      if (block.text === undefined && block.fields === undefined) errors.push(`must provide text or fields [json-pointer:${at}]`);
      if (block.text !== undefined) textObject(block.text, L.sectionText, `${at}/text`, errors);
      if (block.fields !== undefined) {
        if (!Array.isArray(block.fields)) errors.push(`must be an array [json-pointer:${at}/fields]`);
        else {
          if (block.fields.length > L.sectionFields) errors.push(`must be less than ${L.sectionFields + 1} items [json-pointer:${at}/fields]`);
          block.fields.forEach((f, i) => textObject(f, L.sectionFieldText, `${at}/fields/${i}`, errors));
        }
      }
      if (block.accessory !== undefined) checkElement(block.accessory, `${at}/accessory`, errors);
      return;
    case 'header':
      return textObject(block.text, L.headerText, `${at}/text`, errors);
    case 'markdown':
      return maxLen(block.text, L.markdownText, `${at}/text`, errors, 1);
    case 'context':
      return checkList(block.elements, L.contextElements, `${at}/elements`, errors, () => undefined);
    case 'actions':
      return checkList(block.elements, L.actionsElements, `${at}/elements`, errors, (e, p) => checkElement(e, p, errors));
    default:
      return;
  }
}

function checkList(list: unknown, max: number, at: string, errors: string[], each: (e: unknown, at: string) => void): void {
  if (!Array.isArray(list)) return void errors.push(`must be an array [json-pointer:${at}]`);
  if (list.length === 0) errors.push(`must provide at least 1 item [json-pointer:${at}]`);
  if (list.length > max) errors.push(`must be less than ${max + 1} items [json-pointer:${at}]`);
  list.forEach((e, i) => each(e, `${at}/${i}`));
}

function checkElement(el: unknown, at: string, errors: string[]): void {
  if (!isObj(el)) return void errors.push(`must provide an object [json-pointer:${at}]`);
  if (el.action_id !== undefined) maxLen(el.action_id, L.actionId, `${at}/action_id`, errors);
  if (el.type !== 'button') return;
  textObject(el.text, L.buttonText, `${at}/text`, errors);
  if (el.value !== undefined) maxLen(el.value, L.buttonValue, `${at}/value`, errors);
  if (el.url !== undefined) maxLen(el.url, L.buttonUrl, `${at}/url`, errors);
  if (isObj(el.confirm)) {
    const c = el.confirm;
    textObject(c.title, L.confirmTitle, `${at}/confirm/title`, errors);
    textObject(c.text, L.confirmText, `${at}/confirm/text`, errors);
    textObject(c.confirm, L.confirmButton, `${at}/confirm/confirm`, errors);
    textObject(c.deny, L.confirmButton, `${at}/confirm/deny`, errors);
  }
}
