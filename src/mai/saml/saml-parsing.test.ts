import { describe, expect, it } from 'vitest';
import { rolesOfSamlResponse } from './assertion-roles.js';
import { decodeEntities, formFields, htmlForms, inputValue } from './html-forms.js';

describe('htmlForms', () => {
  it('reads forms from real-world HTML: bare and unquoted attributes, entities, comments and scripts skipped', () => {
    const html = `<!DOCTYPE html><html><head>
<script>var s = '<form action="/script"><input type=password name=p>';</script>
<style>form > input { color: red }</style></head><body>
<!-- <form action="/comment"><input type="password" name="old"></form> -->
<FORM METHOD=POST action='/idp/login?execution=e1s1&amp;x=1' id=login>
  <input type=hidden name=csrf_token value=abc123>
  <input name="j_username" autofocus>
  <input type="password" name="j_password" value="">
  <input type="checkbox" name="remember" checked>
  <input type="checkbox" name="donotcache" value="1">
  <input type="text" name="disabled" disabled value="x">
  <button type="button" name="show">Show</button>
  <button name="_eventId_proceed" value="Login">Login</button>
  <input type="submit" name="second" value="Other">
</FORM>
<form action="https://signin.aws.amazon.com/saml"><input type="hidden" name="SAMLResponse" value="PD94&#x2B;bWw&#43;"/></form>
</body></html>`;
    const forms = htmlForms(html);
    expect(forms.map((f) => [f.action, f.method])).toEqual([
      ['/idp/login?execution=e1s1&x=1', 'POST'],
      ['https://signin.aws.amazon.com/saml', 'GET'],
    ]);
    expect(forms[0]!.inputs.map((i) => `${i.name}:${i.type}`)).toEqual([
      'csrf_token:hidden',
      'j_username:text',
      'j_password:password',
      'remember:checkbox',
      'donotcache:checkbox',
      'show:button',
      '_eventId_proceed:submit',
      'second:submit',
    ]);
    // What a browser submits: checked boxes only, the first submit button only, no plain buttons.
    expect(formFields(forms[0]!)).toEqual([
      ['csrf_token', 'abc123'],
      ['j_username', ''],
      ['j_password', ''],
      ['remember', 'on'],
      ['_eventId_proceed', 'Login'],
    ]);
    expect(inputValue(html, 'SAMLResponse')).toBe('PD94+bWw+');
    expect(inputValue(html, 'missing')).toBeUndefined();
    expect(inputValue('<input name="SAMLResponse" value="outside">', 'SAMLResponse')).toBe('outside');
  });

  it('decodes numeric and named entities and leaves unknown ones', () => {
    expect(decodeEntities('a&amp;b &lt;&gt; &quot;&#39;&#x2F; &nbsp;&unknown; &#99999999;')).toBe(
      'a&b <> "\'/ \u00a0&unknown; &#99999999;',
    );
  });
});

const response = (attributes: string, status = 'urn:oasis:names:tc:SAML:2.0:status:Success') =>
  `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">` +
  `<samlp:Status><samlp:StatusCode Value="${status}"/></samlp:Status>` +
  `<saml:Assertion><saml:AttributeStatement>${attributes}</saml:AttributeStatement></saml:Assertion></samlp:Response>`;
const ROLE = 'https://aws.amazon.com/SAML/Attributes/Role';
const P = 'arn:aws:iam::123456789012:saml-provider/corp';
const R = (name: string) => `arn:aws:iam::123456789012:role/${name}`;

describe('rolesOfSamlResponse', () => {
  it('lists the Role pairs in either order and skips values that are not a role and a provider', () => {
    const xml = response(
      `<saml:Attribute Name="${ROLE}">` +
        `<saml:AttributeValue>${R('PowerUser')},${P}</saml:AttributeValue>` +
        `<saml:AttributeValue> ${P} , ${R('ReadOnly')} </saml:AttributeValue>` +
        `<saml:AttributeValue>${R('Only')}</saml:AttributeValue>` +
        `<saml:AttributeValue>${R('A')},${R('B')}</saml:AttributeValue>` +
        `</saml:Attribute>` +
        `<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>jdoe</saml:AttributeValue></saml:Attribute>`,
    );
    expect(rolesOfSamlResponse(xml)).toEqual([
      { roleArn: R('PowerUser'), providerArn: P },
      { roleArn: R('ReadOnly'), providerArn: P },
    ]);
    expect(rolesOfSamlResponse(response(''))).toEqual([]);
  });

  it('says in one line when the IdP answered a failure, encrypted the assertion, or sent no SAML Response', () => {
    expect(() => rolesOfSamlResponse(response('', 'urn:oasis:names:tc:SAML:2.0:status:Responder'))).toThrow(
      'the identity provider answered with SAML status Responder, not a login',
    );
    const encrypted = response('').replace(
      '<saml:Assertion>',
      '<saml:EncryptedAssertion></saml:EncryptedAssertion><saml:Assertion>',
    );
    expect(() => rolesOfSamlResponse(encrypted)).toThrow(/encrypted its SAML assertion/);
    for (const bad of ['not xml at all', '<html><body>login</body></html>', '<samlp:Response'])
      expect(() => rolesOfSamlResponse(bad)).toThrow(
        'the identity provider sent a SAMLResponse that is not a SAML 2.0 Response',
      );
  });
});
