"""Plain-words explanations of the ideas behind each layer family, for people learning."""

from __future__ import annotations

KERAS_DOCS = "https://keras.io/api/layers/"
_DOC_SECTIONS = {
    "Core": "core_layers",
    "Convolution": "convolution_layers",
    "Pooling": "pooling_layers",
    "Recurrent": "recurrent_layers",
    "Attention": "attention_layers",
    "Normalization": "normalization_layers",
    "Regularization": "regularization_layers",
    "Reshaping": "reshaping_layers",
    "Merging": "merging_layers",
    "Activations": "activation_layers",
    "Preprocessing": "preprocessing_layers",
}

CONCEPTS: dict[str, str] = {
    "Core": (
        "A neuron multiplies each input by a weight, adds them up with a bias, and passes the "
        "sum through an activation. A Dense layer is a row of such neurons, each seeing every "
        "input. Training (backpropagation) nudges every weight a little against the gradient "
        "of the loss, batch after batch, so the network's mistakes shrink. The Input layer "
        "only says what one sample looks like."
    ),
    "Activations": (
        "Without a non-linear activation, stacked layers collapse into one linear map. ReLU "
        "(max(0, x)) is the usual choice inside a network; sigmoid squashes to 0..1 for a yes/no "
        "output; softmax turns a vector of scores into class probabilities that sum to one."
    ),
    "Convolution": (
        "A convolution slides a small filter (say 3x3) over an image and computes the same "
        "weighted sum at every position, so it finds a pattern wherever it appears and needs "
        "far fewer weights than a Dense layer. Early filters find edges; deeper ones combine "
        "them into textures and parts. `filters` is how many patterns a layer learns."
    ),
    "Pooling": (
        "Pooling shrinks feature maps by summarising each small window (its maximum or its "
        "mean). The network becomes cheaper and less sensitive to exactly where a feature is. "
        "Global pooling keeps one number per feature map, a compact way into a classifier."
    ),
    "Recurrent": (
        "A recurrent layer reads a sequence one step at a time and carries a hidden state "
        "forward, like a memory. LSTM and GRU add gates that decide what to keep and what to "
        "forget, so they can learn dependencies across long spans. `return_sequences` keeps "
        "the output of every step (to stack another recurrent layer) instead of the last one."
    ),
    "Attention": (
        "Attention lets every position of a sequence look at every other one and take a "
        "weighted mix of what it finds; the weights come from how well a query matches each "
        "key. Multi-head attention does this several times in parallel. Stacked with a "
        "feed-forward layer, residual connections and normalisation, it is a Transformer."
    ),
    "Normalization": (
        "Normalisation rescales activations to a steady mean and spread. BatchNormalization "
        "does it per feature over the batch (common in CNNs); LayerNormalization per sample "
        "over its features (Transformers). Training becomes faster and less fragile."
    ),
    "Regularization": (
        "Regularisation fights overfitting, when a network memorises its training data instead "
        "of learning what generalises. Dropout switches off a random fraction of inputs at each "
        "training step, so no single neuron can be relied upon; it does nothing at test time."
    ),
    "Reshaping": (
        "Reshaping layers change how the numbers of each sample are arranged without changing "
        "them: Flatten unrolls an image into a vector for a Dense layer, Reshape builds any "
        "shape with the same size, padding and cropping change borders."
    ),
    "Merging": (
        "Merging layers join branches. Add sums same-shaped tensors: that is a residual (skip) "
        "connection, which lets very deep networks train because the gradient can flow "
        "straight through. Concatenate puts tensors side by side (Inception-style branches)."
    ),
    "Preprocessing": (
        "Preprocessing layers run inside the model, so an exported model takes raw data: "
        "Rescaling maps pixels from 0..255 to 0..1, Normalization standardises features, "
        "StringLookup and TextVectorization turn words into ids by a vocabulary (from an Input "
        "of dtype string), and random flips and rotations augment images while training only."
    ),
    "Losses": (
        "The loss measures how wrong the predictions are. Classification uses cross-entropy "
        "(sparse when labels are class numbers, binary for yes/no); regression uses mean "
        "squared or absolute error. The output activation must fit the loss: softmax with "
        "categorical cross-entropy, sigmoid with binary cross-entropy, none for regression."
    ),
    "Optimizers": (
        "An optimizer turns gradients into weight updates. SGD steps straight down the "
        "gradient by the learning rate (momentum smooths the path); Adam adapts the step of "
        "every weight from its recent gradients and is a good default. Too high a learning "
        "rate makes the loss jump or explode; too low makes training crawl."
    ),
}


def concept(category: str) -> str:
    return CONCEPTS.get(category, "")


def docs_url(category: str) -> str:
    """The Keras documentation page of a layer family."""
    section = _DOC_SECTIONS.get(category)
    return f"{KERAS_DOCS}{section}/" if section else KERAS_DOCS
