"""Reading CloudFormation/SAM YAML in tests: short-form intrinsics become their long form."""
import yaml


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns !Ref, !Sub, !GetAtt, !If, !Condition ... into {"Ref": ...}, {"Fn::Sub": ...}."""


def _intrinsic(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _intrinsic)


def load_cfn(path):
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=CfnLoader)
