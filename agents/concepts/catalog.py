"""The distant-concept catalog shipped in code: fields that rarely meet a brainstorm's topic, and
the classic creativity operators a field is applied through.

- `FIELDS`: 50 fields of craft, science, art and sport, each a name and a few words of what it
  works with (the words are embedded to measure how far a field is from a topic, and shown to the
  Generator so that it knows what to borrow). Written for ideaforge; no external source.
- `TRIZ_PRINCIPLES`: the 40 inventive principles of TRIZ, G. S. Altshuller, *Creativity as an Exact
  Science* (Gordon and Breach, 1984), numbered as there; the one-line meanings are ours, after
  Altshuller, *40 Principles: TRIZ Keys to Technical Innovation* (Technical Innovation Center, 1997).
- `SCAMPER_OPERATORS`: the 7 operators of SCAMPER, R. F. Eberle, *SCAMPER: Games for Imagination
  Development* (D.O.K. Publishers, 1971), which arranges A. F. Osborn's idea-spurring questions
  (*Applied Imagination*, 1953) under one mnemonic; the one-line meanings are ours.

`OPERATORS` is TRIZ's principles then SCAMPER's operators (47), the pool the draw picks from.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """A distant field: `name` (e.g. "mycology") and `gist`, a few words of what it works with."""

    name: str
    gist: str

    @property
    def text(self) -> str:
        """The field as embedded and shown: "mycology (fungi, mycelium networks, ...)"."""
        return f"{self.name} ({self.gist})"


@dataclass(frozen=True)
class Operator:
    """A creativity operator: `framework` ("TRIZ" or "SCAMPER"), its `number` in that framework
    (1-40 for TRIZ, 1-7 in SCAMPER's letter order), `name` and a one-line `meaning`."""

    framework: str
    number: int
    name: str
    meaning: str

    @property
    def label(self) -> str:
        """E.g. "Segmentation (TRIZ principle 1)" or "Eliminate (SCAMPER)"."""
        where = f"TRIZ principle {self.number}" if self.framework == "TRIZ" else self.framework
        return f"{self.name} ({where})"

    @property
    def text(self) -> str:
        """The operator as shown to the Generator: its label and its meaning."""
        return f"{self.label}: {self.meaning}"


FIELDS: tuple[Field, ...] = tuple(
    Field(name, gist)
    for name, gist in (
        ("mycology", "fungi, mycelium networks, spores, decomposition"),
        ("tidal engineering", "tides, barrages, sea currents, lunar cycles"),
        ("beekeeping", "hives, swarms, queen bees, honeycomb, pollination"),
        ("origami", "paper folding, crease patterns, flat-folding, deployable shapes"),
        ("typography", "typefaces, kerning, legibility, letterforms"),
        ("cryptography", "ciphers, keys, zero-knowledge proofs, secret sharing"),
        ("epidemiology", "contagion, contact tracing, herd immunity, outbreak curves"),
        ("jazz improvisation", "call and response, chord changes, jam sessions, solos"),
        ("glaciology", "ice sheets, crevasses, slow flow, meltwater"),
        ("falconry", "trained raptors, hoods, lures, hunting flights"),
        ("cartography", "maps, projections, legends, contour lines"),
        ("bookbinding", "signatures, stitching, spines, hand-made covers"),
        ("volcanology", "magma, eruptions, seismic warnings, lava flows"),
        ("orchestral conducting", "baton, tempo, score reading, ensemble cues"),
        ("air traffic control", "runways, holding patterns, separation rules, radar"),
        ("coral reef ecology", "symbiosis, polyps, bleaching, reef fish"),
        ("circus acrobatics", "trapeze, spotters, balance, human pyramids"),
        ("horology", "watch movements, escapements, gears, precise timekeeping"),
        ("celestial navigation", "sextants, star sightings, dead reckoning, tides"),
        ("perfumery", "scent notes, accords, distillation, the nose"),
        ("stained glass", "coloured glass, lead cames, light, church windows"),
        ("myrmecology", "ant colonies, pheromone trails, castes, foraging"),
        ("avalanche forecasting", "snowpack layers, slope angles, danger scales"),
        ("puppetry", "marionettes, strings, shadow play, puppeteers"),
        ("change ringing", "church bells, ringing methods, permutations, bell towers"),
        ("lighthouse keeping", "beacons, fog signals, lamp rotation, coastal watch"),
        ("winemaking", "vineyards, grape harvest, fermentation, barrel ageing"),
        ("stagecraft", "theatre sets, rigging, lighting cues, scene changes"),
        ("forensic entomology", "insects on remains, larval stages, time since death"),
        ("hand weaving", "looms, warp and weft, textile patterns, yarn"),
        ("chess endgames", "king and pawn, zugzwang, opposition, tablebases"),
        ("seed banking", "seed vaults, germination tests, cold storage, crop diversity"),
        ("cave diving", "guidelines, air supply, silt-outs, flooded caves"),
        ("opera", "arias, librettos, stage voices, orchestra pit"),
        ("tea ceremony", "matcha, ritual gestures, tea house, hospitality"),
        ("suspension bridge engineering", "cables, towers, loads, wind oscillation"),
        ("ornithology", "bird migration, flocking, songs, ringing birds"),
        ("sourdough baking", "starter cultures, wild yeast, proofing, crust"),
        ("heraldry", "coats of arms, tinctures, blazon, shields"),
        ("improvisational theatre", "yes-and, scene partners, audience suggestions"),
        ("radio astronomy", "dish arrays, interferometry, faint signals, pulsars"),
        ("locksmithing", "pin tumblers, master keys, lock picking, safes"),
        ("high-altitude mountaineering", "base camps, acclimatisation, ropes, summit windows"),
        ("permaculture", "food forests, companion planting, swales, closed loops"),
        ("archival science", "provenance, finding aids, preservation, records"),
        ("knot tying", "hitches, bends, loops, rope work"),
        ("calligraphy", "brush strokes, nibs, ink, lettering"),
        ("clockwork automata", "cams, springs, mechanical figures, programmed motion"),
        ("motor racing pit crews", "pit stops, tyre changes, choreographed seconds, telemetry"),
        ("lichenology", "lichens, symbiotic algae, slow growth, air quality indicators"),
    )
)

TRIZ_PRINCIPLES: tuple[Operator, ...] = tuple(
    Operator("TRIZ", number, name, meaning)
    for number, (name, meaning) in enumerate(
        (
            ("Segmentation", "divide the object or process into independent or easily separated parts"),
            ("Taking out", "extract the one part or property that is needed, or the one that disturbs"),
            ("Local quality", "make each part fit its own function instead of making the whole uniform"),
            ("Asymmetry", "replace a symmetrical form or arrangement with an asymmetrical one"),
            ("Merging", "bring identical or related objects or operations together in space or time"),
            ("Universality", "let one part perform several functions, so other parts are not needed"),
            ("Nested doll", "place one object inside another, which sits inside a third"),
            ("Anti-weight", "compensate a burden by joining it to something that lifts or offsets it"),
            ("Preliminary anti-action", "act in advance against the harm an action will cause"),
            ("Preliminary action", "do the required change, fully or partly, before it is needed"),
            ("Beforehand cushioning", "prepare emergency means in advance for what may go wrong"),
            ("Equipotentiality", "change the working conditions so nothing has to be raised or lowered"),
            ("The other way round", "invert it: move the fixed part, fix the moving one, turn it over"),
            ("Spheroidality", "use curves, rollers, balls or rotation instead of straight lines and flats"),
            ("Dynamics", "let the object or its environment adjust itself to be optimal at each stage"),
            ("Partial or excessive action", "when the exact amount is hard, do a bit less or a bit more"),
            ("Another dimension", "move into another dimension: a second axis, layers, the other side"),
            ("Mechanical vibration", "use oscillation or resonance, or raise its frequency"),
            ("Periodic action", "replace a continuous action by pulses, or change their rhythm"),
            ("Continuity of useful action", "keep every part working at full load; remove idle runs"),
            ("Skipping", "go through a harmful or hazardous stage at high speed"),
            ("Blessing in disguise", "use a harmful factor or by-product to obtain a benefit"),
            ("Feedback", "introduce feedback, or change the feedback that exists"),
            ("Intermediary", "use an intermediate object or process to carry or transfer the action"),
            ("Self-service", "let the object serve or repair itself, using its own waste or energy"),
            ("Copying", "use a cheap copy or image instead of the costly or fragile original"),
            ("Cheap short-living objects", "replace a costly durable object by many cheap short-lived ones"),
            ("Mechanics substitution", "replace a mechanical means with light, sound, smell or fields"),
            ("Pneumatics and hydraulics", "use gas or liquid parts instead of solid ones"),
            ("Flexible shells and thin films", "use flexible membranes or thin films instead of rigid parts"),
            ("Porous materials", "make the object porous, or fill its pores with something useful"),
            ("Colour changes", "change the colour or transparency of the object or its surroundings"),
            ("Homogeneity", "make interacting objects of the same material or kind"),
            ("Discarding and recovering", "let used-up parts disappear, or restore them in use"),
            ("Parameter changes", "change the physical state, concentration, flexibility or temperature"),
            ("Phase transitions", "use what happens when a state changes: melting, boiling, volume change"),
            ("Thermal expansion", "use the expansion or contraction of materials with heat"),
            ("Strong oxidants", "boost the interaction: replace an ordinary environment by an enriched one"),
            ("Inert atmosphere", "replace the normal environment with an inert, neutral one"),
            ("Composite materials", "change from uniform materials to composites that combine properties"),
        ),
        start=1,
    )
)

SCAMPER_OPERATORS: tuple[Operator, ...] = tuple(
    Operator("SCAMPER", number, name, meaning)
    for number, (name, meaning) in enumerate(
        (
            ("Substitute", "replace a part, material, person or step with another"),
            ("Combine", "merge two parts, purposes or offers into one"),
            ("Adapt", "borrow something that works elsewhere and adjust it to this case"),
            ("Modify", "change size, shape, frequency or intensity: magnify or minify it"),
            ("Put to another use", "use the thing, or its waste, for something it was not made for"),
            ("Eliminate", "remove a part, step or rule and see what still works"),
            ("Reverse", "rearrange: reverse the order, swap roles, do it inside out"),
        ),
        start=1,
    )
)

OPERATORS: tuple[Operator, ...] = TRIZ_PRINCIPLES + SCAMPER_OPERATORS
