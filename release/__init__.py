"""nox-release: a release pipeline for Python packages.

build -> TestPyPI -> verify the install -> PyPI, the very same bytes; no version twice.
This package is copied into host projects; it needs the libraries in requirements.txt.

Layers, top to bottom; a module imports only from its own layer or the ones below, at module
level and inside functions alike, and no import cycle exists (tests/test_layers.py walks every
import and keeps it so; it also checks that the pure layer loads no network code)::

    sessions    sessions.py       the nox sessions a host noxfile imports; each one runs
                                  `python -m release COMMAND` in the release environment
        |
    cli         cli.py            parses the command line, runs one command, and is the one
                __main__.py       place where exceptions (errors.py) become exit status
        |
    commands    commands/         one module per command, each its thin driver: build, gather,
                                  upload, plan, verify, release, rehearse, reproduce, doctor,
                                  bump, init; commands/context.py (the loaded, checked
                                  context) and commands/checks.py (rules, plans, offline
                                  credential and provenance checks) hold what several share.
                                  Only cli, and a command made of steps (release, rehearse),
                                  imports them.
        |
    I/O         http.py           the one HTTP session factory: timeouts, deadline, size caps
                index.py          read a Simple API page as it arrives; poll until it lists files
                upload.py         POST files, settle "already exists" by sha256
                verify.py         install the release in brand-new environments
                installer.py      the pinned uv (pip where it cannot run); pip's index
                                  settings in uv's words
                credentials.py    environment, keyring, .pypirc, trusted publishing
                trusted.py        the OIDC token exchange
                distdir.py        dist/ on disk: files hashed, the manifest read and written
                runner.py         which machine builds (platform, Python, CI job)
                distfacts.py      a built file's metadata, members and archive facts, for
                                  pypi_rules
                metadata.py       name and version from the built files' PKG-INFO/METADATA
                gitstate.py       what git says: last tag, commits since, dirty files
                layout.py         init's layout check: build the project, see what ships
                reproduce.py      rebuild a release's commit in a clean worktree, compare
                buildrun.py       run a build (pybuild.py, a child process: build's API),
                                  SOURCE_DATE_EPOCH set, build requirements recorded or pinned
                attestations.py   PEP 740 attestations beside dist/, checked and sent
                signing.py        PEP 740 attestations made in CI (sigstore), own folder
                provenance.py     the index's integrity API: who published each file
                localindex.py     pypiserver on 127.0.0.1 (loopback.py: the server base)
                atomic.py         whole-file writes
                contained.py      third-party code in a process group that ends with it
                versionsources.py where the version is written, the edits a bump makes
                adoption.py       what init copies into a project, merged with what is there
        |
    pure        guard.py          manifest x index state -> upload / skip identical / refuse
    decisions   manifest.py       the manifest's data model (dist/ files, sha256, runners)
                indexstate.py     what an index lists (read link by link, kept compactly), twins
                jsonpage.py       a PEP 691 JSON page read as it arrives, file by file
                versions.py       PEP 440 bumps, the next free version
                pypi_rules.py     PyPI's upload rules, as a table
                pypi_metadata.py  the metadata as twine sends it and PyPI reads it; PyPI's
                                  own metadata checks
                pypi_archives.py  what PyPI refuses in a wheel's zip or an sdist's tar
                diagnose.py       every known refusal explained, as rows of data
                tokens.py         PyPI tokens decoded and checked offline
                claims.py         CI identity claims against the trusted publisher
                project.py        the project's name and version, the built files' names
                vcsversion.py     versions from git tags: why a build is no release, what
                                  to tag
                verifyadvice.py   what a failed verify means: the advice that matches its cause
                backendadvice.py  each build backend's own lines (sdist/wheel excludes), the
                                  leftovers of an unpacked sdist, a compiled project's rehearsal
                childenv.py       environments for third-party code: no credentials,
                                  no index settings
                destinations.py   where a credential may go (its host, https, loopback)
                merge.py          many runners' partial manifests -> one release
                matrix.py         expected-wheels, the matrix found, the post-publish audit
                checklist.py      doctor's checks as data: each verdict from what was read
                reprodiff.py      two builds of one file: the members that differ, and why
        |
    foundation  errors.py         one base exception, an exit code per class, every fix
                config.py         [tool.release] + environment -> Settings (one OPTIONS table)
                output.py         the reporter: lines, progress, summary, --json
                results.py        the --json document's `result`, key by key (typed)
                endpoints.py      PyPI's and TestPyPI's URLs, from twine and pypi-simple
                redact.py         secrets never shown; paths.py: paths confined to the project
                retry.py          bounded backoff with jitter, Retry-After
                terminal.py       colour (NO_COLOR / FORCE_COLOR) and the heartbeat of long steps
"""

__version__ = "0.1.0"
