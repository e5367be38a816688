/**
 * The port through which approvals learns who is in a Slack user group. bot/ implements it with
 * `usergroups.users.list`; tests pass a plain object. It must throw when it cannot tell (Slack down):
 * approvals then refuses, never guesses.
 */
export interface GroupResolver {
  /** User ids of the group's current members. */
  members(groupId: string): Promise<readonly string[]>;
}

/** A resolver over a fixed table: for tests and the local terminal mode. */
export function staticGroupResolver(groups: Readonly<Record<string, readonly string[]>>): GroupResolver {
  return {
    async members(groupId) {
      const m = groups[groupId];
      if (!m) throw new Error(`unknown user group ${groupId}`);
      return m;
    },
  };
}
