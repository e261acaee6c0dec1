// A real keyless cosign image signature made on the Sigstore public-good instance (data, not
// code): the `.sig` layer of us-central1-docker.pkg.dev/cosign-test-363613/repo1/myimage@
// sha256:83ab2ba6…0753, signed 2022-09-25 by cosign in Google Cloud Build with the identity
// cosign@cosign-test-363613.iam.gserviceaccount.com (issuer https://accounts.google.com),
// logged in Rekor (log index 3942845). The signature manifest, its annotations and the decoded
// payload are published in the README of github.com/salrashid123/cosign_bazel_cloud_build
// (`crane manifest ...:sha256-83ab2b...0753.sig` and `cosign verify` output). The payload bytes
// are the simplesigning JSON cosign printed, compact; their sha256 is the layer digest in the
// manifest (17ad97d5…4a3), which the test checks before anything else.

export const REAL_KEYLESS = {
  source: 'https://github.com/salrashid123/cosign_bazel_cloud_build (README.md, "Crane" section)',
  imageDigest: 'sha256:83ab2ba6689713f2d68104cd208feadfebdd6bc881c455dcb55d2b45ac3a0753',
  layerDigest: 'sha256:17ad97d5c49542b196154cfdd89fadffe0e09bafd4c3fd6b33bd49bc475cb4a3',
  identity: 'cosign@cosign-test-363613.iam.gserviceaccount.com',
  issuer: 'https://accounts.google.com',
  payload:
    '{"critical":{"identity":{"docker-reference":"us-central1-docker.pkg.dev/cosign-test-363613/repo1/myimage"},"image":{"docker-manifest-digest":"sha256:83ab2ba6689713f2d68104cd208feadfebdd6bc881c455dcb55d2b45ac3a0753"},"type":"cosign container image signature"},"optional":{"key1":"value1"}}',
  signature: 'MEUCIQCEDpmlDTmbJ8BN8U6TB/icB3kTQupzGI9GcLvpb7WB8AIgKY4MrPejlN9mnwFwm0096lLJ04tc9wp6qcppWYr7Ggk=',
  certificate: [
    '-----BEGIN CERTIFICATE-----',
    'MIICvDCCAkKgAwIBAgIUfPq3IVc4p8mHbk2CG8AwPVy9NCswCgYIKoZIzj0EAwMw',
    'NzEVMBMGA1UEChMMc2lnc3RvcmUuZGV2MR4wHAYDVQQDExVzaWdzdG9yZS1pbnRl',
    'cm1lZGlhdGUwHhcNMjIwOTI1MTMxNjM0WhcNMjIwOTI1MTMyNjM0WjAAMFkwEwYH',
    'KoZIzj0CAQYIKoZIzj0DAQcDQgAEzJlM/KBGKmkJEOC1FLJXpCf6Gzr3TJxvdJ5G',
    'QeaBwgy3KhG2WKWz/MEcsaWQkuKRvyuZ90bnKp/QG65CON92wKOCAWEwggFdMA4G',
    'A1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDAzAdBgNVHQ4EFgQUTzrd',
    '74i65flmKumIF5DFXAWSDEYwHwYDVR0jBBgwFoAU39Ppz1YkEZb5qNjpKFWixi4Y',
    'ZD8wPwYDVR0RAQH/BDUwM4ExY29zaWduQGNvc2lnbi10ZXN0LTM2MzYxMy5pYW0u',
    'Z3NlcnZpY2VhY2NvdW50LmNvbTApBgorBgEEAYO/MAEBBBtodHRwczovL2FjY291',
    'bnRzLmdvb2dsZS5jb20wgYkGCisGAQQB1nkCBAIEewR5AHcAdQAIYJLwKFL/aEXR',
    '0WsnhJxFZxisFj3DONJt5rwiBjZvcgAAAYN0ythAAAAEAwBGMEQCIA1908rDRerL',
    'leV+F2PoTjF02rZX30vbfivSuMs+CVBZAiAQCo9zPzWgK7b1Q4g3AWiwO0MMGNWg',
    '0KaczYKOEB2BKjAKBggqhkjOPQQDAwNoADBlAjBdkFG/JebbwrNjW7pL6BchX6Ba',
    'RYafb9P98LDfg5B2e6MvsXgPdJVcwxDj0QnrlWYCMQCe4RpoZmi0wJfBGSpk7Ru5',
    'j69Q9oT5IY0NVS/FhDvQ4XqXDhO08FDam4aJdJzFcNQ=',
    '-----END CERTIFICATE-----',
    '',
  ].join('\n'),
  /** The Rekor bundle annotation's parts; its body is the hashedrekord entry Rekor stored. */
  signedEntryTimestamp:
    'MEUCIF29vuJZwdzLVyCkfUnlVJ+dgoKXhXsn+2UWLFFK9NJ2AiEAvCOXKfwTAaOAu6BrysoqTGu0zlOHsMSEZAzJ5R6jGn4=',
  integratedTime: 1664111795,
  logIndex: 3942845,
  logID: 'c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d',
} as const;

/**
 * The `dev.sigstore.cosign/bundle` annotation. Its body is the hashedrekord entry as Rekor
 * stored it: rebuilt here from the signature, the certificate and the payload digest in the
 * key order and compact JSON of Rekor's Go types; the SET (signed by the production Rekor key
 * over this exact body) is what proves the rebuild byte-exact, and the README's body starts
 * with the same bytes (`eyJhcGlWZXJzaW9uIjoiMC4wLjEiLCJraW5kIjoiaGFzaGVkcmVrb3JkIi...`).
 */
export function realKeylessBundleAnnotation(): string {
  const k = REAL_KEYLESS;
  const body = JSON.stringify({
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: k.layerDigest.slice(7) } },
      signature: { content: k.signature, publicKey: { content: Buffer.from(k.certificate).toString('base64') } },
    },
  });
  return JSON.stringify({
    SignedEntryTimestamp: k.signedEntryTimestamp,
    Payload: {
      body: Buffer.from(body).toString('base64'),
      integratedTime: k.integratedTime,
      logIndex: k.logIndex,
      logID: k.logID,
    },
  });
}
