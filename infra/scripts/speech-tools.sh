# Sourced by infra/scripts/test.sh: the local speech tools the transcription tests run. Debian's
# espeak-ng (speaks the test sentences) and ffmpeg (decodes recordings) are installed when
# missing; PocketSphinx (its PyPI package ships a US English model) goes into ${CONFER_VENV}.
# Exports CONFER_SPEECH_PYTHON, the Python that has it.
POCKETSPHINX_VERSION=5.1.1
speech_missing=()
command -v espeak-ng >/dev/null || speech_missing+=(espeak-ng)
command -v ffmpeg >/dev/null || speech_missing+=(ffmpeg)
infra/scripts/apt-install.sh ${speech_missing[@]+"${speech_missing[@]}"}
speech_venv="${CONFER_VENV:-.venv}"
[ -x "$speech_venv/bin/python" ] || python3 -m venv "$speech_venv"
if [ "$("$speech_venv/bin/python" -c 'import importlib.metadata as m; print(m.version("pocketsphinx"))' 2>/dev/null || true)" != "$POCKETSPHINX_VERSION" ]; then
    "$speech_venv/bin/pip" install --quiet --disable-pip-version-check "pocketsphinx==$POCKETSPHINX_VERSION"
fi
CONFER_SPEECH_PYTHON="$(cd "$speech_venv" && pwd)/bin/python"
export CONFER_SPEECH_PYTHON
