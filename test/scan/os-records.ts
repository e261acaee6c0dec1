// Real OSV records of Debian, Ubuntu and Alpine, verbatim (data, not code): the texts OSV serves,
// as google/osv-scanner keeps them for its offline-database tests. Each is preceded by the
// URL of the file it was copied from. They go through the database's own record check before
// any test uses them (osRecords()).
import { checkOsvRecord, type OsvRecord } from '../../src/vulndb/osv.ts';

const OSV_SCANNER_OFFLINE_DBS =
  'https://github.com/google/osv-scanner/blob/0a7584300d4bacd7984c228a95a116229ba6cb04/cmd/osv-scanner/internal/testcmd/testdata/offline-dbs';

export const RECORD_TEXTS: Record<string, { url: string; text: string }> = {
  // https://github.com/google/osv-scanner/blob/0a7584300d4bacd7984c228a95a116229ba6cb04/cmd/osv-scanner/internal/testcmd/testdata/offline-dbs/Alpine/ALPINE-CVE-2025-26519.json
  'ALPINE-CVE-2025-26519': {
    url: `${OSV_SCANNER_OFFLINE_DBS}/Alpine/ALPINE-CVE-2025-26519.json`,
    text: `{
  "schema_version": "1.7.5",
  "id": "ALPINE-CVE-2025-26519",
  "published": "2025-02-14T04:15:09.050Z",
  "modified": "2026-07-08T04:32:24.548042624Z",
  "upstream": [
    "CVE-2025-26519"
  ],
  "details": "musl libc 0.9.13 through 1.2.5 before 1.2.6 has an out-of-bounds write vulnerability when an attacker can trigger iconv conversion of untrusted EUC-KR text to UTF-8.",
  "affected": [
    {
      "package": {
        "name": "musl",
        "ecosystem": "Alpine:v3.16",
        "purl": "pkg:apk/alpine/musl?arch=source"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0.9.13"
            },
            {
              "fixed": "1.2.3-r4"
            }
          ]
        }
      ],
      "ecosystem_specific": {},
      "database_specific": {
        "source": "https://storage.googleapis.com/cve-osv-conversion/alpine/ALPINE-CVE-2025-26519.json"
      }
    },
    {
      "package": {
        "name": "musl",
        "ecosystem": "Alpine:v3.17",
        "purl": "pkg:apk/alpine/musl?arch=source"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0.9.13"
            },
            {
              "fixed": "1.2.3-r6"
            }
          ]
        }
      ],
      "ecosystem_specific": {},
      "database_specific": {
        "source": "https://storage.googleapis.com/cve-osv-conversion/alpine/ALPINE-CVE-2025-26519.json"
      }
    },
    {
      "package": {
        "name": "musl",
        "ecosystem": "Alpine:v3.18",
        "purl": "pkg:apk/alpine/musl?arch=source"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0.9.13"
            },
            {
              "fixed": "1.2.4-r3"
            }
          ]
        }
      ],
      "ecosystem_specific": {},
      "database_specific": {
        "source": "https://storage.googleapis.com/cve-osv-conversion/alpine/ALPINE-CVE-2025-26519.json"
      }
    },
    {
      "package": {
        "name": "musl",
        "ecosystem": "Alpine:v3.19",
        "purl": "pkg:apk/alpine/musl?arch=source"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0.9.13"
            },
            {
              "fixed": "1.2.4_git20230717-r5"
            }
          ]
        }
      ],
      "ecosystem_specific": {},
      "database_specific": {
        "source": "https://storage.googleapis.com/cve-osv-conversion/alpine/ALPINE-CVE-2025-26519.json"
      }
    },
    {
      "package": {
        "name": "musl",
        "ecosystem": "Alpine:v3.20",
        "purl": "pkg:apk/alpine/musl?arch=source"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0.9.13"
            },
            {
              "fixed": "1.2.5-r1"
            }
          ]
        }
      ],
      "ecosystem_specific": {},
      "database_specific": {
        "source": "https://storage.googleapis.com/cve-osv-conversion/alpine/ALPINE-CVE-2025-26519.json"
      }
    },
    {
      "package": {
        "name": "musl",
        "ecosystem": "Alpine:v3.21",
        "purl": "pkg:apk/alpine/musl?arch=source"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0.9.13"
            },
            {
              "fixed": "1.2.5-r9"
            }
          ]
        }
      ],
      "ecosystem_specific": {},
      "database_specific": {
        "source": "https://storage.googleapis.com/cve-osv-conversion/alpine/ALPINE-CVE-2025-26519.json"
      }
    },
    {
      "package": {
        "name": "musl",
        "ecosystem": "Alpine:v3.22",
        "purl": "pkg:apk/alpine/musl?arch=source"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0.9.13"
            },
            {
              "fixed": "1.2.5-r10"
            }
          ]
        }
      ],
      "ecosystem_specific": {},
      "database_specific": {
        "source": "https://storage.googleapis.com/cve-osv-conversion/alpine/ALPINE-CVE-2025-26519.json"
      }
    },
    {
      "package": {
        "name": "musl",
        "ecosystem": "Alpine:v3.23",
        "purl": "pkg:apk/alpine/musl?arch=source"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0.9.13"
            },
            {
              "fixed": "1.2.5-r10"
            }
          ]
        }
      ],
      "ecosystem_specific": {},
      "database_specific": {
        "source": "https://storage.googleapis.com/cve-osv-conversion/alpine/ALPINE-CVE-2025-26519.json"
      }
    },
    {
      "package": {
        "name": "musl",
        "ecosystem": "Alpine:v3.24",
        "purl": "pkg:apk/alpine/musl?arch=source"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0.9.13"
            },
            {
              "fixed": "1.2.5-r10"
            }
          ]
        }
      ],
      "ecosystem_specific": {},
      "database_specific": {
        "source": "https://storage.googleapis.com/cve-osv-conversion/alpine/ALPINE-CVE-2025-26519.json"
      }
    }
  ],
  "references": [
    {
      "type": "ADVISORY",
      "url": "https://security.alpinelinux.org/vuln/CVE-2025-26519"
    }
  ],
  "severity": [
    {
      "type": "CVSS_V3",
      "score": "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H"
    }
  ]
}`,
  },

  // https://github.com/google/osv-scanner/blob/0a7584300d4bacd7984c228a95a116229ba6cb04/cmd/osv-scanner/internal/testcmd/testdata/offline-dbs/Debian/DLA-3008-1.json
  'DLA-3008-1': {
    url: `${OSV_SCANNER_OFFLINE_DBS}/Debian/DLA-3008-1.json`,
    text: `{
  "schema_version": "1.7.3",
  "id": "DLA-3008-1",
  "published": "2022-05-14T00:00:00Z",
  "modified": "2026-03-09T01:23:33.375630Z",
  "upstream": [
    "CVE-2022-1292",
    "DEBIAN-CVE-2022-1292"
  ],
  "summary": "openssl - security update",
  "affected": [
    {
      "package": {
        "name": "openssl",
        "ecosystem": "Debian:9",
        "purl": "pkg:deb/debian/openssl?arch=source"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0"
            },
            {
              "fixed": "1.1.0l-1~deb9u6"
            }
          ]
        }
      ],
      "versions": [
        "1.1.0f-3",
        "1.1.0f-3+deb9u1",
        "1.1.0f-3+deb9u2",
        "1.1.0f-4",
        "1.1.0f-5",
        "1.1.0g-1",
        "1.1.0g-2",
        "1.1.0g-2+riscv64",
        "1.1.0h-1",
        "1.1.0h-2",
        "1.1.0h-3",
        "1.1.0h-4",
        "1.1.0j-1~deb9u1",
        "1.1.0k-1~deb9u1",
        "1.1.0l-1~deb9u1",
        "1.1.0l-1~deb9u2",
        "1.1.0l-1~deb9u3",
        "1.1.0l-1~deb9u4",
        "1.1.0l-1~deb9u5"
      ],
      "database_specific": {
        "source": "https://storage.googleapis.com/debian-osv/dla-osv/DLA-3008-1.json"
      }
    }
  ]
}`,
  },

  // https://github.com/google/osv-scanner/blob/0a7584300d4bacd7984c228a95a116229ba6cb04/cmd/osv-scanner/internal/testcmd/testdata/offline-dbs/Debian/DLA-3022-1.json
  'DLA-3022-1': {
    url: `${OSV_SCANNER_OFFLINE_DBS}/Debian/DLA-3022-1.json`,
    text: `{
  "schema_version": "1.7.3",
  "id": "DLA-3022-1",
  "published": "2022-05-25T00:00:00Z",
  "modified": "2026-03-09T01:23:37.553205Z",
  "upstream": [
    "CVE-2022-1664",
    "DEBIAN-CVE-2022-1664"
  ],
  "summary": "dpkg - security update",
  "affected": [
    {
      "package": {
        "name": "dpkg",
        "ecosystem": "Debian:9",
        "purl": "pkg:deb/debian/dpkg?arch=source"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0"
            },
            {
              "fixed": "1.18.26"
            }
          ]
        }
      ],
      "versions": [
        "1.18.24",
        "1.18.25"
      ],
      "database_specific": {
        "source": "https://storage.googleapis.com/debian-osv/dla-osv/DLA-3022-1.json"
      }
    }
  ]
}`,
  },

  // https://github.com/google/osv-scanner/blob/3a31e16e1b4e2523515e9f6a8abc1c5a45e67094/cmd/osv-scanner/internal/testcmd/testdata/offline-dbs/Debian/DLA-3051-1.json
  'DLA-3051-1': {
    url: 'https://github.com/google/osv-scanner/blob/3a31e16e1b4e2523515e9f6a8abc1c5a45e67094/cmd/osv-scanner/internal/testcmd/testdata/offline-dbs/Debian/DLA-3051-1.json',
    text: `{
  "schema_version": "1.7.3",
  "id": "DLA-3051-1",
  "published": "2022-06-15T00:00:00Z",
  "modified": "2025-05-26T07:01:56.257796Z",
  "summary": "tzdata - new timezone database",
  "affected": [
    {
      "package": {
        "name": "tzdata",
        "ecosystem": "Debian:9",
        "purl": "pkg:deb/debian/tzdata?arch=source"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0"
            },
            {
              "fixed": "2021a-0+deb9u4"
            }
          ]
        }
      ],
      "versions": [
        "2017b-1",
        "2017b-2",
        "2017c-0+deb9u1",
        "2017c-1",
        "2018b-1",
        "2018c-0+deb9u1",
        "2018c-1",
        "2018d-0+deb9u1",
        "2018d-1",
        "2018e-0+deb9u1",
        "2018e-1",
        "2018f-0+deb9u1",
        "2018f-1",
        "2018g-0+deb9u1",
        "2018g-1",
        "2018h-0+deb9u1",
        "2018h-1",
        "2018i-0+deb9u1",
        "2018i-1",
        "2018i-2",
        "2019a-0+deb9u1",
        "2019a-1",
        "2019b-0+deb9u1",
        "2019b-1",
        "2019b-2",
        "2019c-0+deb9u1",
        "2019c-1",
        "2019c-2",
        "2019c-3",
        "2020a-0+deb9u1",
        "2020a-1",
        "2020b-1",
        "2020c-1",
        "2020d-0+deb9u1",
        "2020d-1",
        "2020e-0+deb9u1",
        "2020e-1",
        "2020f-1",
        "2021a-0+deb9u1",
        "2021a-0+deb9u2",
        "2021a-0+deb9u3"
      ],
      "database_specific": {
        "source": "https://storage.googleapis.com/debian-osv/dla-osv/DLA-3051-1.json"
      }
    }
  ]
}`,
  },

  // https://github.com/google/osv-scanner/blob/0d865a836bc5e8a1dc71d6856d22dbe72bca64dd/cmd/osv-scanner/internal/testcmd/testdata/offline-dbs/Debian/DSA-1819-1.json
  'DSA-1819-1': {
    url: 'https://github.com/google/osv-scanner/blob/0d865a836bc5e8a1dc71d6856d22dbe72bca64dd/cmd/osv-scanner/internal/testcmd/testdata/offline-dbs/Debian/DSA-1819-1.json',
    text: `{
  "schema_version": "1.7.3",
  "id": "DSA-1819-1",
  "published": "2009-06-18T00:00:00Z",
  "modified": "2026-03-09T01:19:40.055569Z",
  "upstream": [
    "CVE-2008-1768",
    "CVE-2008-1769",
    "CVE-2008-1881",
    "CVE-2008-2147",
    "CVE-2008-2430",
    "CVE-2008-3794",
    "CVE-2008-4686",
    "CVE-2008-5032",
    "DEBIAN-CVE-2008-1768",
    "DEBIAN-CVE-2008-1769",
    "DEBIAN-CVE-2008-1881",
    "DEBIAN-CVE-2008-2147",
    "DEBIAN-CVE-2008-2430",
    "DEBIAN-CVE-2008-3794",
    "DEBIAN-CVE-2008-4686",
    "DEBIAN-CVE-2008-5032"
  ],
  "summary": "vlc - several vulnerabilities",
  "affected": [
    {
      "package": {
        "name": "vlc",
        "ecosystem": "Debian:4.0",
        "purl": "pkg:deb/debian/vlc?arch=source"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0"
            },
            {
              "fixed": "0.8.6-svn20061012.debian-5.1+etch3"
            }
          ]
        }
      ],
      "versions": [
        "0.8.6-svn20061012.debian-5",
        "0.8.6-svn20061012.debian-5.1+etch2",
        "0.8.6-svn20061012.debian-5etch1"
      ],
      "database_specific": {
        "source": "https://storage.googleapis.com/debian-osv/dsa-osv/DSA-1819-1.json"
      }
    }
  ]
}`,
  },

  // https://github.com/google/osv-scanner/blob/70f9e21addd09451f730fb00f5c09729b94a5330/cmd/osv-scanner/internal/testcmd/testdata/offline-dbs/Ubuntu/USN-8697-1.json
  'USN-8697-1': {
    url: 'https://github.com/google/osv-scanner/blob/70f9e21addd09451f730fb00f5c09729b94a5330/cmd/osv-scanner/internal/testcmd/testdata/offline-dbs/Ubuntu/USN-8697-1.json',
    text: String.raw`{
  "schema_version": "1.9.0",
  "id": "USN-8697-1",
  "published": "2026-08-31T11:40:50Z",
  "modified": "2026-08-31T17:26:24.789222646Z",
  "related": [
    "UBUNTU-CVE-2025-5278",
    "UBUNTU-CVE-2026-56391"
  ],
  "upstream": [
    "CVE-2025-5278",
    "CVE-2026-56391",
    "UBUNTU-CVE-2025-5278",
    "UBUNTU-CVE-2026-56391"
  ],
  "summary": "coreutils vulnerabilities",
  "details": "It was discovered that GNU Core Utilities sort had a heap buffer under-read\nin its begfield() function. A local attacker could possibly use this issue\nto cause GNU Core Utilities to crash, resulting in a denial of service, or\nobtain sensitive information. (CVE-2025-5278)\n\nIt was discovered that GNU Core Utilities uniq had an out-of-bounds read\nwhen the -w option was used with crafted multibyte input. A local attacker\ncould possibly use this issue to cause GNU Core Utilities to crash,\nresulting in a denial of service, or obtain sensitive information. This\nissue only affected Ubuntu 26.04 LTS. (CVE-2026-56391)",
  "affected": [
    {
      "package": {
        "name": "coreutils",
        "ecosystem": "Ubuntu:22.04:LTS",
        "purl": "pkg:deb/ubuntu/coreutils?arch=source&distro=jammy"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0"
            },
            {
              "fixed": "8.32-4.1ubuntu1.4"
            }
          ]
        }
      ],
      "versions": [
        "8.32-4ubuntu2",
        "8.32-4ubuntu3",
        "8.32-4.1ubuntu1",
        "8.32-4.1ubuntu1.1",
        "8.32-4.1ubuntu1.2",
        "8.32-4.1ubuntu1.3"
      ],
      "ecosystem_specific": {
        "availability": "No subscription required",
        "binaries": [
          {
            "binary_name": "coreutils",
            "binary_version": "8.32-4.1ubuntu1.4"
          }
        ]
      },
      "database_specific": {
        "cves_map": {
          "cves": [
            {
              "id": "CVE-2025-5278",
              "severity": [
                {
                  "score": "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:L/I:N/A:L",
                  "type": "CVSS_V3"
                },
                {
                  "score": "low",
                  "type": "Ubuntu"
                }
              ]
            }
          ],
          "ecosystem": "Ubuntu:22.04:LTS"
        },
        "source": "https://github.com/canonical/ubuntu-security-notices/blob/main/osv/usn/USN-8697-1.json"
      }
    },
    {
      "package": {
        "name": "coreutils",
        "ecosystem": "Ubuntu:24.04:LTS",
        "purl": "pkg:deb/ubuntu/coreutils?arch=source&distro=noble"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0"
            },
            {
              "fixed": "9.4-3ubuntu6.3"
            }
          ]
        }
      ],
      "versions": [
        "9.1-1ubuntu2",
        "9.4-2ubuntu1",
        "9.4-2ubuntu2",
        "9.4-2ubuntu3",
        "9.4-2ubuntu4",
        "9.4-3ubuntu3",
        "9.4-3ubuntu5",
        "9.4-3ubuntu6",
        "9.4-3ubuntu6.1",
        "9.4-3ubuntu6.2"
      ],
      "ecosystem_specific": {
        "availability": "No subscription required",
        "binaries": [
          {
            "binary_name": "coreutils",
            "binary_version": "9.4-3ubuntu6.3"
          }
        ]
      },
      "database_specific": {
        "cves_map": {
          "cves": [
            {
              "id": "CVE-2025-5278",
              "severity": [
                {
                  "score": "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:L/I:N/A:L",
                  "type": "CVSS_V3"
                },
                {
                  "score": "low",
                  "type": "Ubuntu"
                }
              ]
            }
          ],
          "ecosystem": "Ubuntu:24.04:LTS"
        },
        "source": "https://github.com/canonical/ubuntu-security-notices/blob/main/osv/usn/USN-8697-1.json"
      }
    },
    {
      "package": {
        "name": "coreutils",
        "ecosystem": "Ubuntu:26.04:LTS",
        "purl": "pkg:deb/ubuntu/coreutils?arch=source&distro=resolute"
      },
      "ranges": [
        {
          "type": "ECOSYSTEM",
          "events": [
            {
              "introduced": "0"
            },
            {
              "fixed": "9.7-3ubuntu2.1"
            }
          ]
        }
      ],
      "versions": [
        "9.5-1ubuntu4",
        "9.7-3ubuntu1",
        "9.7-3ubuntu2"
      ],
      "ecosystem_specific": {
        "availability": "No subscription required",
        "binaries": [
          {
            "binary_name": "gnu-coreutils",
            "binary_version": "9.7-3ubuntu2.1"
          }
        ]
      },
      "database_specific": {
        "cves_map": {
          "cves": [
            {
              "id": "CVE-2025-5278",
              "severity": [
                {
                  "score": "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:L/I:N/A:L",
                  "type": "CVSS_V3"
                },
                {
                  "score": "low",
                  "type": "Ubuntu"
                }
              ]
            },
            {
              "id": "CVE-2026-56391",
              "severity": [
                {
                  "score": "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:A/VC:L/VI:N/VA:L/SC:N/SI:N/SA:N",
                  "type": "CVSS_V4"
                },
                {
                  "score": "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:L/I:N/A:H",
                  "type": "CVSS_V3"
                },
                {
                  "score": "medium",
                  "type": "Ubuntu"
                }
              ]
            }
          ],
          "ecosystem": "Ubuntu:26.04:LTS"
        },
        "source": "https://github.com/canonical/ubuntu-security-notices/blob/main/osv/usn/USN-8697-1.json"
      }
    }
  ],
  "references": [
    {
      "type": "ADVISORY",
      "url": "https://ubuntu.com/security/notices/USN-8697-1"
    },
    {
      "type": "REPORT",
      "url": "https://ubuntu.com/security/CVE-2025-5278"
    },
    {
      "type": "REPORT",
      "url": "https://ubuntu.com/security/CVE-2026-56391"
    }
  ]
}`,
  },
};

/** The records, each through the database's own check (throws if one fails it). */
export function osRecords(): Map<string, OsvRecord> {
  const out = new Map<string, OsvRecord>();
  for (const [id, { text }] of Object.entries(RECORD_TEXTS)) {
    const checked = checkOsvRecord(JSON.parse(text));
    if (!checked.ok) throw new Error(`${id}: ${checked.problem}`);
    out.set(id, checked.record);
  }
  return out;
}
