import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.js';
import { loadCloudConfig, type LoadCloudConfigOptions } from '../../../adapters/openstack/cloud-config.js';

const LAB = `
clouds:
  lab:
    auth:
      auth_url: http://127.0.0.1:5000/v3
      username: admin
      password: admin
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
  other:
    auth: { auth_url: "https://keystone.example.com:5000", username: ops, user_domain_id: default, project_id: p-42 }
    cacert: /etc/ssl/cloud-ca.pem
    verify: false
  appcred:
    auth_type: v3applicationcredential
    auth: { auth_url: "https://keystone.example.com/v3", application_credential_id: ac-1, application_credential_secret: s }
`;

function load(files: Record<string, string>, env: Record<string, string>, extra: Partial<LoadCloudConfigOptions> = {}) {
  return loadCloudConfig({ env, cwd: '/work/here', home: '/home/op', readFile: (p) => files[p], ...extra });
}
function problems(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('clouds.yaml search path', () => {
  it('takes ./clouds.yaml before the user and system files', () => {
    const c = load({ '/work/here/clouds.yaml': LAB, '/home/op/.config/openstack/clouds.yaml': 'clouds: {}' }, { OS_CLOUD: 'lab' });
    expect(c).toMatchObject({ name: 'lab', regionName: 'RegionOne', interface: 'public', insecure: false, sources: ['/work/here/clouds.yaml'] });
    expect(c.auth).toEqual({
      type: 'password',
      authUrl: 'http://127.0.0.1:5000/v3',
      username: 'admin',
      password: 'admin',
      userDomainName: 'Default',
      projectName: 'admin',
      projectDomainName: 'Default',
    });
  });

  it('honours OS_CLIENT_CONFIG_FILE first, then XDG_CONFIG_HOME, then /etc/openstack', () => {
    expect(
      load({ '/tmp/mine.yaml': LAB, '/work/here/clouds.yaml': 'clouds: {}' }, { OS_CLOUD: 'lab', OS_CLIENT_CONFIG_FILE: '/tmp/mine.yaml' }).sources,
    ).toEqual(['/tmp/mine.yaml']);
    expect(load({ '/xdg/openstack/clouds.yaml': LAB }, { OS_CLOUD: 'lab', XDG_CONFIG_HOME: '/xdg' }).sources).toEqual(['/xdg/openstack/clouds.yaml']);
    expect(load({ '/home/op/.config/openstack/clouds.yml': LAB }, { OS_CLOUD: 'lab' }).sources).toEqual(['/home/op/.config/openstack/clouds.yml']);
    expect(load({ '/etc/openstack/clouds.yaml': LAB }, { OS_CLOUD: 'lab' }).sources).toEqual(['/etc/openstack/clouds.yaml']);
  });

  it('merges secure.yaml into the cloud', () => {
    const clouds =
      'clouds:\n  prod:\n    auth: { auth_url: "https://k/v3", username: u, user_domain_name: Default, project_name: p, project_domain_name: Default }\n';
    const c = load(
      { '/etc/openstack/clouds.yaml': clouds, '/home/op/.config/openstack/secure.yaml': 'clouds:\n  prod:\n    auth: { password: from-secure }\n' },
      { OS_CLOUD: 'prod' },
    );
    expect(c.auth).toMatchObject({ password: 'from-secure', username: 'u' });
    expect(c.sources).toEqual(['/etc/openstack/clouds.yaml', '/home/op/.config/openstack/secure.yaml']);
  });

  it('lets OS_* variables override the named cloud, as the openstack client does', () => {
    const c = load({ '/work/here/clouds.yaml': LAB }, { OS_CLOUD: 'lab', OS_PASSWORD: 'rotated', OS_REGION_NAME: 'RegionTwo', OS_INTERFACE: 'internal' });
    expect(c.auth).toMatchObject({ password: 'rotated' });
    expect(c).toMatchObject({ regionName: 'RegionTwo', interface: 'internal' });
  });

  it('reads cacert and verify: false, and adds /v3 to an unversioned auth_url', () => {
    const c = load({ '/work/here/clouds.yaml': LAB }, { OS_CLOUD: 'other', OS_PASSWORD: 'x' });
    expect(c).toMatchObject({ cacert: '/etc/ssl/cloud-ca.pem', insecure: true });
    expect(c.auth).toMatchObject({ authUrl: 'https://keystone.example.com:5000/v3', userDomainId: 'default', projectId: 'p-42' });
  });

  it('builds an application-credential auth', () => {
    expect(load({ '/work/here/clouds.yaml': LAB }, { OS_CLOUD: 'appcred' }).auth).toEqual({
      type: 'v3applicationcredential',
      authUrl: 'https://keystone.example.com/v3',
      applicationCredentialId: 'ac-1',
      applicationCredentialSecret: 's',
    });
  });
});

describe('OS_* variables alone', () => {
  const openrc = {
    OS_AUTH_URL: 'http://127.0.0.1:5000/v3',
    OS_USERNAME: 'admin',
    OS_PASSWORD: 'admin',
    OS_PROJECT_NAME: 'admin',
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_NAME: 'Default',
    OS_REGION_NAME: 'RegionOne',
    OS_INTERFACE: 'public',
  };

  it('resolves an openrc', () => {
    const c = load({}, openrc);
    expect(c).toMatchObject({ name: 'envvars', regionName: 'RegionOne', sources: ['environment (OS_*)'] });
    expect(c.auth).toMatchObject({ type: 'password', username: 'admin', projectName: 'admin', projectDomainName: 'Default' });
  });

  it('infers application-credential auth and takes OS_CACERT / OS_INSECURE', () => {
    const c = load(
      {},
      {
        OS_AUTH_URL: 'https://k/v3',
        OS_APPLICATION_CREDENTIAL_NAME: 'bot',
        OS_APPLICATION_CREDENTIAL_SECRET: 's',
        OS_USERNAME: 'ops',
        OS_USER_DOMAIN_NAME: 'Default',
        OS_CACERT: '/ca.pem',
        OS_INSECURE: 'true',
      },
    );
    expect(c.auth).toEqual({
      type: 'v3applicationcredential',
      authUrl: 'https://k/v3',
      applicationCredentialName: 'bot',
      applicationCredentialSecret: 's',
      username: 'ops',
      userDomainName: 'Default',
    });
    expect(c).toMatchObject({ cacert: '/ca.pem', insecure: true });
  });

  it('scopes to a domain when no project is given, and fills domains from OS_DEFAULT_DOMAIN_ID', () => {
    const c = load({}, { OS_AUTH_URL: 'https://k/v3', OS_USERNAME: 'u', OS_PASSWORD: 'p', OS_DEFAULT_DOMAIN_ID: 'default', OS_DOMAIN_NAME: 'Default' });
    expect(c.auth).toMatchObject({ userDomainId: 'default', domainName: 'Default' });
  });
});

describe('what is wrong, all at once', () => {
  it('names the missing cloud and the ones that exist', () => {
    expect(problems(() => load({ '/work/here/clouds.yaml': LAB }, { OS_CLOUD: 'prod' }))).toEqual([
      '/work/here/clouds.yaml: clouds.prod: no cloud named "prod" (have: lab, other, appcred)',
    ]);
  });

  it('says where it looked when there is no clouds.yaml', () => {
    expect(problems(() => load({}, { OS_CLOUD: 'lab' }))[0]).toMatch(/no clouds.yaml in \/work\/here\/clouds.yaml, .*\/etc\/openstack\/clouds.yml/);
  });

  it('says how to give credentials when there are none', () => {
    expect(problems(() => load({}, {}))[0]).toMatch(/set OS_CLOUD .* or the OS_AUTH_URL/);
  });

  it('lists every missing auth field and a bad interface together', () => {
    expect(problems(() => load({}, { OS_AUTH_URL: 'ftp://k', OS_USERNAME: 'u', OS_PROJECT_NAME: 'p', OS_INTERFACE: 'private' }))).toEqual([
      'auth.auth_url: expected an http(s) URL, got "ftp://k"',
      'auth.password: expected a password (clouds.yaml, secure.yaml or OS_PASSWORD)',
      'auth.user_domain_name: a user given by name needs user_domain_name or user_domain_id (e.g. Default)',
      'auth.project_domain_name: a project given by name needs project_domain_name or project_domain_id (e.g. Default)',
      'interface: expected public, internal or admin, got "private"',
    ]);
  });

  it('refuses an auth type it does not speak', () => {
    expect(problems(() => load({}, { OS_AUTH_URL: 'https://k/v3', OS_AUTH_TYPE: 'v3oidcpassword', OS_USERNAME: 'u' }))).toContain(
      'auth_type: unsupported auth type "v3oidcpassword": expected password, v3password or v3applicationcredential',
    );
  });

  it('reports a clouds.yaml that is not YAML', () => {
    expect(problems(() => load({ '/work/here/clouds.yaml': 'clouds: [' }, { OS_CLOUD: 'lab' }))[0]).toMatch(/^\/work\/here\/clouds.yaml: not valid YAML/);
  });
});
