// Compiled into the runtime (public, ArchGen) and linked into the generator (internal, ARCHGEN_GENERATOR): the
// [Bneck] attribute's nl argument and the generator's reading of it are one definition.
#if ARCHGEN_GENERATOR
namespace ArchGen.Generator.Model;
#else
namespace ArchGen;
#endif

/// <summary>The nonlinearity column (NL) of the MobileNetV3 paper's tables.</summary>
#if ARCHGEN_GENERATOR
internal
#else
public
#endif
enum Nonlinearity
{
    /// <summary>RE: ReLU.</summary>
    ReLU = 0,

    /// <summary>HS: hard-swish, x · ReLU6(x + 3) / 6.</summary>
    HardSwish = 1,
}
