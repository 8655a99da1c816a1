"""Stage 3: the model -> endpoint classes, IP and service atoms, and flat numpy tables for the engine."""

from netverify.compile.compiled import CompiledCluster, compile_cluster
from netverify.compile.profiles import PROFILES, Profile, get_profile

__all__ = ["CompiledCluster", "compile_cluster", "PROFILES", "Profile", "get_profile"]
