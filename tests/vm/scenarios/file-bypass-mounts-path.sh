# boots: lsm
# kernels: none
# file-bypass-mounts-path: file-bypass-mounts with a rule path absent at start, so the
# module also resolves and looks up paths (path mode): the identity walk still goes to
# each filesystem's root, and a path built in a detached tree never matches a rule.
# shellcheck shell=sh source=file-bypass-mounts.sh
FBM_NAME=file-bypass-mounts-path
FBM_PATH_MODE=1
. /tests/scenarios/file-bypass-mounts.sh
